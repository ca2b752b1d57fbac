package checks_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

const day = 24 * time.Hour

// testCert is a throwaway self-signed certificate for 127.0.0.1.
type testCert struct {
	certPEM, keyPEM []byte
	pair            tls.Certificate
}

func newCert(t *testing.T, notBefore, notAfter time.Time) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "probekit-test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	if c.pair, err = tls.X509KeyPair(c.certPEM, c.keyPEM); err != nil {
		t.Fatal(err)
	}
	return c
}

func writeFile(t *testing.T, data ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tls.crt")
	if err := os.WriteFile(path, concat(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func concat(parts [][]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// serveTLS serves cert on a loopback TLS listener, completing each
// handshake and hanging up.
func serveTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.(*tls.Conn).Handshake()
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func TestTLSVerdicts(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name       string
		from, till time.Time
		verdict    string // pass, warn or fail
		msg        string
	}{
		{"valid", now.Add(-day), now.Add(90 * day), "pass", ""},
		{"expiring", now.Add(-day), now.Add(10*day + time.Hour), "warn", `certificate "probekit-test" expires in 10 days`},
		{"expired", now.Add(-10 * day), now.Add(-3*day - time.Hour), "fail", `certificate "probekit-test" expired 3 days ago`},
		{"not yet valid", now.Add(day), now.Add(90 * day), "fail", "is not valid until"},
	}
	for _, c := range cases {
		cert := newCert(t, c.from, c.till)
		for kind, check := range map[string]health.Checker{
			"file":     checks.TLSCertFile(writeFile(t, cert.certPEM, cert.keyPEM), 30*day),
			"endpoint": checks.TLSCertEndpoint(serveTLS(t, cert.pair), 30*day),
		} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				err := check.Check(testCtx(t))
				switch c.verdict {
				case "pass":
					if err != nil {
						t.Fatal(err)
					}
				case "warn":
					requireWarn(t, err, "TLS")
				case "fail":
					requireFail(t, err, "TLS")
				}
				if err != nil && !strings.Contains(err.Error(), c.msg) {
					t.Fatalf("error %q does not contain %q", err, c.msg)
				}
			})
		}
	}
}

func TestTLSWarnBeforeZeroNeverWarns(t *testing.T) {
	cert := newCert(t, time.Now().Add(-day), time.Now().Add(time.Hour))
	if err := checks.TLSCertFile(writeFile(t, cert.certPEM), 0).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// The file check reads the first certificate, the leaf, even when the key
// comes first.
func TestTLSCertFileReadsTheLeaf(t *testing.T) {
	leaf := newCert(t, time.Now().Add(-day), time.Now().Add(5*day))
	other := newCert(t, time.Now().Add(-day), time.Now().Add(500*day))
	requireWarn(t, checks.TLSCertFile(writeFile(t, leaf.keyPEM, leaf.certPEM, other.certPEM), 30*day).Check(testCtx(t)), "TLS")
}

func TestTLSCertFileNeverQuotesTheFile(t *testing.T) {
	cert := newCert(t, time.Now().Add(-day), time.Now().Add(90*day))
	keyBody := strings.Split(string(cert.keyPEM), "\n")[1]
	corrupt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER at all, secret")})
	for name, path := range map[string]string{
		"key only": writeFile(t, cert.keyPEM),
		"corrupt":  writeFile(t, cert.keyPEM, corrupt),
		"not PEM":  writeFile(t, []byte("secret garbage")),
	} {
		err := checks.TLSCertFile(path, day).Check(testCtx(t))
		requireFail(t, err, "TLS")
		requireNoSecret(t, err, keyBody, "secret", "PRIVATE")
		t.Logf("%s: %v", name, err)
	}
	requireFail(t, checks.TLSCertFile(filepath.Join(t.TempDir(), "missing.crt"), day).Check(testCtx(t)), "TLS")
}

func TestTLSCertEndpointFailures(t *testing.T) {
	requireFail(t, checks.TLSCertEndpoint(closedAddr(t), day).Check(testCtx(t)), "TLS")
	// A server that speaks no TLS.
	plain := rawServer(t, func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) })
	requireFail(t, checks.TLSCertEndpoint(plain, day).Check(testCtx(t)), "TLS")
}

func TestTLSInvalidConfiguration(t *testing.T) {
	for _, check := range []health.Checker{
		checks.TLSCertFile("", day),
		checks.TLSCertFile("tls.crt", -day),
		checks.TLSCertEndpoint("", day),
		checks.TLSCertEndpoint("127.0.0.1", day),
		checks.TLSCertEndpoint("127.0.0.1:443", -day),
		checks.TLSCertEndpoint("https://user:secret@127.0.0.1:443/?token=s3cret", day),
	} {
		err := check.Check(testCtx(t))
		requireFail(t, err, "TLS")
		requireNoSecret(t, err, "secret", "s3cret")
	}
}
