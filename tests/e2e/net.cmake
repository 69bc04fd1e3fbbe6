# End-to-end test of the net library in a real process (bench/net/net_hello):
# SIGTERM drains and the process exits 0.
kisee_add_e2e(net_graceful_shutdown net_shutdown.py TIMEOUT 120)
