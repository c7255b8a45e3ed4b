"""Benchmarks that drive a running server over loopback: `ivr bench webhooks`."""
