// go-hello: a Go HTTP service built with a multi-stage Dockerfile.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func hello(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, `{"message":"Hello from Go"}`)
}

func main() {
	http.HandleFunc("/", hello)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
