"""A billing backend simulator: the API of design §5, served from the deterministic demo world.

It is a real HTTP server with injectable faults (latency, errors, hangs, slow or broken bodies),
so the gateway's client can be tested and demonstrated against the failures it must survive.
"""
