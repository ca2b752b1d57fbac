module github.com/probekit/probekit/examples

go 1.26.0

require github.com/probekit/probekit v0.0.0

replace github.com/probekit/probekit => ../
