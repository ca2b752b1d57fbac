package hostile

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
)

// DNSBehavior is one way for a DNS server to misbehave.
type DNSBehavior int

const (
	// DNSSilent reads queries over UDP and TCP and never answers.
	DNSSilent DNSBehavior = iota + 1
	// DNSTruncated answers every UDP query with an empty, truncated (TC)
	// reply, which sends the client to TCP, where the server accepts and
	// never answers.
	DNSTruncated
	// DNSWrongID answers every UDP query, over and over, with replies whose
	// ID does not match, which a client must ignore; TCP never answers.
	DNSWrongID
)

// DNSBehaviors lists every DNS behaviour.
var DNSBehaviors = []DNSBehavior{DNSSilent, DNSTruncated, DNSWrongID}

// String names the behaviour, for subtest names.
func (b DNSBehavior) String() string {
	switch b {
	case DNSSilent:
		return "DNS never answers"
	case DNSTruncated:
		return "DNS truncated, then TCP stalls"
	case DNSWrongID:
		return "DNS answers with wrong IDs"
	}
	return fmt.Sprintf("DNSBehavior(%d)", int(b))
}

// Resolver starts a DNS server with behaviour b on 127.0.0.1 (UDP and TCP)
// and returns a pure Go resolver that sends every query there. The server
// stops when the test ends.
func Resolver(t testing.TB, b DNSBehavior) *net.Resolver {
	t.Helper()
	udpAddr := serveUDP(t, b)
	tcpAddr := serveTCP(t, func(c *conn) { c.hold() })
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			if network == "tcp" || network == "tcp4" || network == "tcp6" {
				return d.DialContext(ctx, "tcp", tcpAddr)
			}
			return d.DialContext(ctx, "udp", udpAddr)
		},
	}
}

func serveUDP(t testing.TB, b DNSBehavior) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hostile: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at the end of the test
			}
			if n < 12 {
				continue
			}
			switch b {
			case DNSTruncated:
				_, _ = pc.WriteTo(reply(buf[:n], 0), from)
			case DNSWrongID:
				for i := 1; i <= 3; i++ {
					_, _ = pc.WriteTo(reply(buf[:n], uint16(i)), from)
				}
			}
		}
	})
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

// reply turns query into an empty, truncated answer to its questions, with
// the ID changed by idDelta.
func reply(query []byte, idDelta uint16) []byte {
	r := append([]byte(nil), query...)
	id := uint16(r[0])<<8 | uint16(r[1]) + idDelta
	r[0], r[1] = byte(id>>8), byte(id)
	r[2] = 0x80 | 0x02 | r[2]&0x01 // QR, TC, and the query's RD bit
	r[3] = 0                       // RA off, RCODE NOERROR
	// Keep QDCOUNT; no answer, authority or additional records.
	for i := 6; i < 12; i++ {
		r[i] = 0
	}
	return r[:len(r)-additional(query)]
}

// additional returns how many trailing bytes of query are its additional
// section (an EDNS OPT record), which a reply without ARCOUNT must drop.
func additional(query []byte) int {
	if query[11] == 0 && query[10] == 0 {
		return 0
	}
	// The Go resolver's OPT record is the 11 bytes at the end: root name,
	// type, class, TTL, and an empty RDATA.
	if len(query) >= 12+11 {
		return 11
	}
	return 0
}
