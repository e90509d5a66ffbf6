"""HTTP endpoints: each turns a request into a service call and the result into a response."""
