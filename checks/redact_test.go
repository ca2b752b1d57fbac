package checks

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"dial postgres://app:hunter2@db:5432/app failed":  "dial postgres://app:xxxxx@db:5432/app failed",
		"redis://:hunter2@cache:6379/0":                   "redis://:xxxxx@cache:6379/0",
		"https://ghp_hunter2@github.com/x":                "https://xxxxx@github.com/x",
		"host=db password=hunter2 sslmode=disable":        "host=db password=xxxxx sslmode=disable",
		"host=db password='hunter2 x' sslmode=disable":    "host=db password=xxxxx sslmode=disable",
		"GET /?user=a&token=hunter2&x=1":                  "GET /?user=a&token=xxxxx&x=1",
		"GET /?access_token=hunter2":                      "GET /?access_token=xxxxx",
		"app:hunter2@tcp(db:3306)/app":                    "app:xxxxx@tcp(db:3306)/app",
		"Authorization: Bearer hunter2":                   "Authorization: xxxxx",
		"authorization=Basic hunter2, next":               "authorization=xxxxx, next",
		"Server=db;Password=hunter2;Database=app":         "Server=db;Password=xxxxx;Database=app",
		"connect: connection refused":                     "connect: connection refused",
		"password authentication failed for user \"app\"": "password authentication failed for user \"app\"",
	} {
		got := redact(in)
		if got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("redact(%q) leaks the secret", in)
		}
	}
}
