// The Go tutorial's stage 3, as the course's benchmark runs it: the seed's
// program with its typos mended and one addition, the -addr flag, so that the
// benchmark can pick a free port. Everything else is the seed's.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"os"
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
	n, err := io.Copy(os.Stderr, conn)
	if err != nil {
		log.Printf("Connection finished. Error %v", err)
	}
	log.Printf("Received %d bytes", n)
}
