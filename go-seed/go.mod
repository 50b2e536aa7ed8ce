module go-seed

go 1.19
