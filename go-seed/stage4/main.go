// The Go tutorial's stage 4, as the course's benchmark runs it: the seed's
// program with its typos mended and one addition, the -addr flag, so that the
// benchmark can pick a free port. Everything else is the seed's.
package main

import (
	"flag"
	"log"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "localhost:9000", "where to listen")
	flag.Parse()
	// listener initialization
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The accept loop
	for {
		conn, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serviceConn(conn) // here we call the go routine
	}
}

func serviceConn(conn net.Conn) {
	defer conn.Close()
	for {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var buf [128]byte
		n, err := conn.Read(buf[:])
		if err != nil {
			log.Printf("Connection finished. Error %v", err)
			// the next return will close the connection
			return
		}
		os.Stderr.Write(buf[:n])
	}
}
