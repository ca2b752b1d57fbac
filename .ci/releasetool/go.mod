// releasetool builds the module proxy of .ci/installtest. It is a module
// of its own so that golang.org/x/mod is required neither by the root
// module nor by the workspace (it is not in go.work): run it with
// GOWORK=off.
module releasetool

go 1.26.0

require golang.org/x/mod v0.43.0

require go.uber.org/goleak v1.3.0
