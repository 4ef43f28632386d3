"""Developer tools shared by the tests, the benchmark and the load test: fakes of the outside world (a strict
Telegram Bot API, light stage backends), a harness that runs the real bot against them, the loopback server
helper, and the load test itself (`make loadtest`). Nothing in the product imports this package.
"""
