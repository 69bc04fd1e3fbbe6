# End-to-end tests of certified and message: the original's introduction
# flow, trust management, every error case of certified.md §3, and
# interoperability with openssl, curl, an upstream HTTP application.
kisee_add_e2e(certified_flow certified_flow.py TIMEOUT 240)
kisee_add_e2e(certified_interop certified_interop.py TIMEOUT 240)
kisee_add_e2e(certified_compat certified_compat.py TIMEOUT 180)
