package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/probekit/probekit/health"
)

// TLSCertFile returns a check of the expiry of the certificate in the PEM
// file at path: the first CERTIFICATE block, which by convention (tls.crt,
// fullchain.pem) is the leaf. The file is read on every run, so a rotated
// certificate is seen at once. The check
//
//   - fails when the certificate has expired or is not valid yet;
//   - warns (health.Warn) when it expires within warnBefore;
//   - observes the whole days until expiry (negative once expired), in
//     "days".
//
// A warnBefore of 0 disables the warning. The check never quotes the file's
// contents, so a key stored beside the certificate cannot leak into logs.
//
// TLSCertFile is a check of local state, a health.CheckFunc, and suits any
// group, but a certificate's expiry is rarely worth a restart: prefer
// readiness, or register it with health.CheckOptions{NonCritical: true} so
// it only ever warns. It is also the check for the certificate of the
// process's own listener. An empty path or a negative warnBefore is a
// misconfiguration: Register refuses the check with an error matching
// health.ErrMisconfigured and starting "checks: TLS:".
func TLSCertFile(path string, warnBefore time.Duration) health.Checker {
	switch {
	case path == "":
		return misconfigured("TLS", "empty path")
	case warnBefore < 0:
		return misconfigured("TLS", "warning period must not be negative, got %v", warnBefore)
	}
	return health.CheckFunc(func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return failf("TLS", "%s: %w", path, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return failf("TLS", "%w", err) // a *PathError names the file
		}
		cert, err := firstCertificate(data)
		if err != nil {
			return failf("TLS", "%s: %w", path, err)
		}
		return judgeCert(ctx, cert, path, warnBefore)
	})
}

// TLSCertEndpoint returns a check of the expiry of the certificate that the
// TLS server at addr ("host:port") presents, with the same verdicts and
// observation as TLSCertFile. It reads the leaf certificate during a TLS
// handshake made within the check's context, sending the host as server
// name (SNI), and then closes the connection.
//
// The check does not verify the certificate chain or the host name: it
// reports on the expiry of whatever the server presents, so that a
// self-signed or privately issued certificate can be watched too. A server
// that fails the handshake later, for example because it requires a client
// certificate, is still judged by the certificate it sent. To check that
// clients can actually connect, use HTTP with an https URL.
//
// TLSCertEndpoint is a dependency check, a health.DependencyFunc: readiness
// only (Register refuses it elsewhere with health.ErrDependencyGroup),
// behind a circuit breaker, whatever addr is. To watch the certificate of
// the process's own listener in liveness, check its file with TLSCertFile.
// An address that is not host:port or a negative warnBefore is a
// misconfiguration: Register refuses the check with an error matching
// health.ErrMisconfigured and starting "checks: TLS:".
func TLSCertEndpoint(addr string, warnBefore time.Duration) health.Checker {
	if err := validHostPort(addr); err != "" {
		return misconfigured("TLS", "%s", err)
	}
	if warnBefore < 0 {
		return misconfigured("TLS", "warning period must not be negative, got %v", warnBefore)
	}
	host, _, _ := net.SplitHostPort(addr)
	return health.DependencyFunc(func(ctx context.Context) error {
		var leaf *x509.Certificate
		d := tls.Dialer{Config: &tls.Config{
			ServerName: host,
			// Expiry is all this check reads; verifying the chain would
			// turn every self-signed certificate into a failure.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) > 0 {
					leaf = cs.PeerCertificates[0]
				}
				return nil
			},
		}}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if conn != nil {
			conn.Close()
		}
		if leaf == nil {
			if err == nil {
				err = errors.New("server presented no certificate")
			}
			return wrap("TLS", addr, err)
		}
		return judgeCert(ctx, leaf, addr, warnBefore)
	})
}

func firstCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing certificate: %w", err)
			}
			return cert, nil
		}
	}
}

func judgeCert(ctx context.Context, cert *x509.Certificate, where string, warnBefore time.Duration) error {
	now := time.Now()
	left := cert.NotAfter.Sub(now)
	name := cert.Subject.CommonName
	if name == "" {
		name = cert.Subject.String()
	}
	const day = "2006-01-02 15:04 MST"
	switch {
	case now.Before(cert.NotBefore):
		return failf("TLS", "%s: certificate %q is not valid until %s", where, name, cert.NotBefore.UTC().Format(day))
	case left <= 0:
		return failf("TLS", "%s: certificate %q expired %s ago, on %s", where, name, approx(-left), cert.NotAfter.UTC().Format(day))
	case left <= warnBefore:
		return health.Warn(failf("TLS", "%s: certificate %q expires in %s, on %s", where, name, approx(left), cert.NotAfter.UTC().Format(day)))
	}
	return nil
}

// approx renders a duration as an operator reads an expiry: in days when it
// is days away, in hours or minutes when it is close.
func approx(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	return d.Round(time.Second).String()
}
