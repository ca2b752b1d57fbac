package main

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// greeterService is the example's own gRPC service, the traffic the health
// service tells clients whether to send. It is described by hand, with
// google.protobuf.StringValue as request and reply, so the example needs
// no generated code.
const (
	greeterService = "probekit.examples.Greeter"
	helloMethod    = "/" + greeterService + "/Hello"
)

// greeterServer is what greeterDesc's handlers call.
type greeterServer interface {
	Hello(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

var greeterDesc = grpc.ServiceDesc{
	ServiceName: greeterService,
	HandlerType: (*greeterServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Hello",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(greeterServer).Hello(ctx, req.(*wrapperspb.StringValue))
			}
			if interceptor == nil {
				return call(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: helloMethod}, call)
		},
	}},
}

// greeter answers Hello("name") with "hello, name".
type greeter struct{}

// maxNameLen bounds the name a caller may send, so the reply stays small.
const maxNameLen = 256

func (greeter) Hello(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	name := strings.TrimSpace(in.GetValue())
	switch {
	case name == "":
		return nil, status.Error(codes.InvalidArgument, "name is empty")
	case len(name) > maxNameLen:
		return nil, status.Errorf(codes.InvalidArgument, "name is longer than %d bytes", maxNameLen)
	}
	return wrapperspb.String("hello, " + name), nil
}
