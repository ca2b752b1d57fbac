package redact_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestString: each case plants the secret SECRET (in some cases with
// punctuation around it) and says what must be left.
func TestString(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		secrets        []string // what must not survive; default "SECRET"
	}{
		// The issue's two reproductions.
		{name: "URL with @ in the password", in: "postgres://app:p@SECRET@db/app",
			want: "postgres://app:xxxxx@db/app", secrets: []string{"SECRET", "p@"}},
		{name: "mysql with @ in the password", in: "app:p@SECRET@tcp(db:3306)/app",
			want: "app:xxxxx@tcp(db:3306)/app", secrets: []string{"SECRET", "p@"}},

		// URL userinfo: net/url splits at the last '@' of the authority.
		{name: "URL", in: "postgres://app:SECRET@db:5432/app?sslmode=require", want: "postgres://app:xxxxx@db:5432/app?sslmode=require"},
		{name: "URL, colon in password", in: "postgresql://app:SE:CR:ET@db/app", want: "postgresql://app:xxxxx@db/app", secrets: []string{"SE:CR:ET", "CR:ET"}},
		{name: "URL, slash in password (net/url refuses it, errors quote it)", in: `cannot parse "postgres://app:SE/CRET@db/app": invalid port ":SE" after host`,
			want: `cannot parse "postgres://app:xxxxx@db/app": invalid port "xxxxx" after host`, secrets: []string{"SE/CRET", "CRET", `":SE"`}},
		{name: "URL, percent-encoded", in: "postgres://app:p%40SECRET%2F%3A@db/app", want: "postgres://app:xxxxx@db/app", secrets: []string{"SECRET", "%40"}},
		{name: "URL, quote in password", in: "dial 'amqp://guest:it'sSECRET@rabbit:5672/' failed", want: "dial 'amqp://guest:xxxxx@rabbit:5672/' failed"},
		{name: "URL, token as userinfo", in: "https://ghp_SECRET@github.com/org/repo.git", want: "https://xxxxx@github.com/org/repo.git"},
		{name: "URL, empty user", in: "redis://:SECRET@cache:6379/0", want: "redis://:xxxxx@cache:6379/0"},
		{name: "rediss with user", in: "rediss://default:SECRET@cache.example.com:6380", want: "rediss://default:xxxxx@cache.example.com:6380"},
		{name: "mongodb+srv multi-host", in: "server selection error: mongodb+srv://admin:SECRET@c0.mongo.net,c1.mongo.net/?authSource=admin",
			want: "server selection error: mongodb+srv://admin:xxxxx@c0.mongo.net,c1.mongo.net/?authSource=xxxxx"},
		{name: "mongodb hosts with ports", in: "mongodb://u:SECRET@h1:27017,h2:27017/db", want: "mongodb://u:xxxxx@h1:27017,h2:27017/db"},
		{name: "amqp", in: "amqp://guest:SECRET@rabbit:5672/vhost", want: "amqp://guest:xxxxx@rabbit:5672/vhost"},
		{name: "sqlserver", in: "sqlserver://sa:SECRET@db?database=app", want: "sqlserver://sa:xxxxx@db?database=app"},
		{name: "URL in Go-quoted error", in: `parse "postgres://app:SECRET@db/app\x00": net/url: invalid control character in URL`,
			want: `parse "postgres://app:xxxxx@db/app\x00": net/url: invalid control character in URL`},
		{name: "password-only authority, no @", in: "redis://:SECRET", want: "redis://:xxxxx"},
		{name: "host and port untouched", in: "Get \"http://127.0.0.1:8080/ready\": EOF", want: "Get \"http://127.0.0.1:8080/ready\": EOF", secrets: []string{}},
		{name: "IPv6 untouched", in: "http://[::1]:80/x", want: "http://[::1]:80/x", secrets: []string{}},

		// Query parameters and key=value pairs.
		{name: "query password", in: "postgres://db/app?user=app&password=SECRET&sslmode=disable", want: "postgres://db/app?user=app&password=xxxxx"},
		{name: "query sslpassword", in: "postgres://db/app?sslpassword=SECRET", want: "postgres://db/app?sslpassword=xxxxx"},
		{name: "query token", in: "GET https://api/x?token=SECRET", want: "GET https://api/x?token=xxxxx"},
		{name: "api_key", in: "https://api/v1?api_key=SECRET", want: "https://api/v1?api_key=xxxxx"},
		{name: "client_secret", in: "oauth: client_secret=SECRET rejected", want: "oauth: client_secret=xxxxx rejected"},
		{name: "SAS signature", in: "https://acct.blob.core.windows.net/c?sv=2022&sig=SECRET", want: "https://acct.blob.core.windows.net/c?sv=2022&sig=xxxxx"},
		{name: "libpq", in: "host=db user=app password=SECRET dbname=app", want: "host=db user=app password=xxxxx dbname=app"},
		{name: "libpq spaces around =", in: "host=db password = SECRET dbname=app", want: "host=db password = xxxxx dbname=app"},
		{name: "libpq quoted with escapes", in: `host=db password='a b\' SECRET \\' dbname=app`, want: "host=db password=xxxxx", secrets: []string{"SECRET", "a b"}},
		// \\' is an escaped backslash closing the value, or an escaped quote
		// quoted again by %q: no telling, so the rest is hidden too.
		{name: "libpq quoted, quoted again", in: strconv.Quote(`host=db password='it\'s SE CRET' dbname=app`),
			want: `"host=db password=xxxxx`, secrets: []string{"SE", "CRET"}},
		{name: "JSON quoted again", in: "bad body " + strconv.Quote(`{"user":"app","password":"SE\"CRET"}`),
			want: `bad body "{\"user\":\"app\",\"password\":"xxxxx"`, secrets: []string{"SE", "CRET"}},
		{name: "ADO.NET quoted again", in: strconv.Quote(`Server=db;Password="SE;CRET";Database=app`),
			want: `"Server=db;Password=xxxxx`, secrets: []string{"SE", "CRET"}},
		{name: "libpq double-quoted", in: `password="SE CRET" user=app`, want: "password=xxxxx user=app", secrets: []string{"SE CRET", "CRET"}},
		{name: "libpq & in unquoted value", in: "password=a&SECRET host=db", want: "password=xxxxx host=db"},
		{name: "libpq ; in unquoted value", in: "host=db password=SE;CRET dbname=app", want: "host=db password=xxxxx dbname=app", secrets: []string{"SE", "CRET"}},
		{name: "ADO.NET, blank in password", in: "Server=db;Password=SE CRET;Database=app", want: "Server=db;Password=xxxxx;Database=app", secrets: []string{"SE", "CRET"}},
		{name: "ADO.NET, password first (read as libpq)", in: "Password=SECRET;Database=app", want: "Password=xxxxx"},
		{name: "PGPASSWORD", in: "PGPASSWORD=SECRET psql", want: "PGPASSWORD=xxxxx psql"},
		{name: "ADO.NET", in: "Server=db;User Id=app;Password=SECRET;Database=app", want: "Server=db;User Id=app;Password=xxxxx;Database=app"},
		{name: "Azure AccountKey", in: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRET==;EndpointSuffix=core.windows.net",
			want: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=xxxxx;EndpointSuffix=core.windows.net"},
		{name: "JSON", in: `{"user":"app","password":"SE\"CRET"}`, want: `{"user":"app","password":"xxxxx"}`, secrets: []string{"SE", "CRET"}},
		{name: "YAML-ish", in: "config: password: SECRET", want: "config: password: xxxxx"},

		// go-sql-driver/mysql DSNs.
		{name: "mysql", in: "app:SECRET@tcp(db:3306)/app?parseTime=true", want: "app:xxxxx@tcp(db:3306)/app?parseTime=true"},
		{name: "mysql, colon slash paren", in: "app:S:E/C(R@ET@tcp(db:3306)/app", want: "app:xxxxx@tcp(db:3306)/app", secrets: []string{"S:E/C(R@ET", "ET", "C(R"}},
		{name: "mysql, blank in password", in: "open app:SE CRET@tcp(db)/app: refused", want: "open app:xxxxx@tcp(db)/app: refused", secrets: []string{"SE", "CRET"}},
		{name: "mysql, quote in password", in: `dsn "app:SE'CRET@unix(/run/mysqld.sock)/app"`, want: `dsn "app:xxxxx@unix(/run/mysqld.sock)/app"`, secrets: []string{"SE'CRET", "CRET"}},
		{name: "mysql, blank and quote in password", in: `ping: app:SECRET "x@tcp(db:3306)/app`, want: "ping: app:xxxxx@tcp(db:3306)/app", secrets: []string{"SECRET", `"x`}},
		{name: "mysql, = in password", in: "dsn app:SE=CRET@tcp(db)/app", want: "dsn app:xxxxx@tcp(db)/app", secrets: []string{"SE", "CRET"}},
		{name: "mysql in wrapped error", in: "ping: dial app:SECRET@tcp6([::1]:3306)/app: i/o timeout", want: "ping: dial app:xxxxx@tcp6([::1]:3306)/app: i/o timeout"},
		{name: "mysql, custom dialer", in: "app:SECRET@cloudsql(project:region:instance)/app", want: "app:xxxxx@cloudsql(project:region:instance)/app"},
		{name: "mysql URL form", in: "mysql://app:SECRET@tcp(db:3306)/app", want: "mysql://app:xxxxx@tcp(db:3306)/app"},

		// Authorization values.
		{name: "Authorization header", in: "Authorization: Bearer SECRET", want: "Authorization: xxxxx"},
		{name: "basic", in: "authorization=Basic SECRET=", want: "authorization=xxxxx"},
		{name: "bare bearer", in: "sent bearer SECRET.abc-def to api", want: "sent bearer xxxxx to api"},

		// user:password@host without a scheme, as dialers and gRPC quote a target.
		{name: "bare userinfo", in: `dial tcp: lookup app:SECRET@db.internal: no such host`, want: `dial tcp: lookup app:xxxxx@db.internal: no such host`},
		{name: "bare userinfo in quotes", in: `parse target "app:SE@CRET@db:443"`, want: `parse target "app:xxxxx@db:443"`, secrets: []string{"SE@CRET", "CRET"}},
		{name: "e-mail address", in: "sent to ops@example.com: ok", want: "sent to ops@example.com: ok", secrets: []string{}},

		// Nothing to hide.
		{name: "plain", in: "dial tcp 10.0.0.7:5432: connect: connection refused", want: "dial tcp 10.0.0.7:5432: connect: connection refused", secrets: []string{}},
		{name: "password in prose", in: "password authentication failed for user \"app\"", want: "password authentication failed for user \"app\"", secrets: []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redact.String(tc.in)
			secrets := tc.secrets
			if secrets == nil {
				secrets = []string{"SECRET"}
			}
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Errorf("String(%q) = %q leaks %q", tc.in, got, s)
				}
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestStringIdempotent: hiding twice changes nothing more, so layers that
// each redact do not garble each other's output.
func TestStringIdempotent(t *testing.T) {
	for _, s := range []string{
		"postgres://app:p@SECRET@db/app", "app:SECRET@tcp(db:3306)/app", "password='x y' host=db",
		"redis://:SECRET@cache", "Authorization: Bearer abc",
	} {
		once := redact.String(s)
		if twice := redact.String(once); twice != once {
			t.Errorf("String(String(%q)) = %q, String once = %q", s, twice, once)
		}
	}
}

// TestStringNetURLAgrees: for URLs that net/url parses, the password it
// finds is the one hidden.
func TestStringNetURLAgrees(t *testing.T) {
	for _, raw := range []string{
		"postgres://app:p@ss@db/app", "redis://:a:b:c@h", "amqp://u:p%2Fw@h/v", "mongodb://u:p!$&'()*+,;=@h1,h2/db",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		pw, _ := u.User.Password()
		got := redact.String(raw)
		if strings.Contains(got, pw) || strings.Contains(got, u.User.String()) {
			t.Errorf("String(%q) = %q still holds the password %q", raw, got, pw)
		}
		if !strings.Contains(got, "@"+u.Host) {
			t.Errorf("String(%q) = %q lost the host %q", raw, got, u.Host)
		}
	}
}

func ExampleString() {
	fmt.Println(redact.String("failed to connect to postgres://app:p@ss:w0rd@db:5432/app: timeout"))
	fmt.Println(redact.String("app:p@ss/w(rd@tcp(db:3306)/app"))
	// Output:
	// failed to connect to postgres://app:xxxxx@db:5432/app: timeout
	// app:xxxxx@tcp(db:3306)/app
}
