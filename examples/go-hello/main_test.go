package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHello(t *testing.T) {
	rec := httptest.NewRecorder()
	hello(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "Hello from Go") {
		t.Fatalf("unexpected body %q", rec.Body.String())
	}
}
