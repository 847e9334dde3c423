package main

import "log"

func main() {
	log.Println("payments-gateway starting")
}
