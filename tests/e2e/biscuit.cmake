# End-to-end tests of the biscuit CLI, and interoperability with the
# reference implementation (@biscuit-auth/biscuit-wasm driven by node).
kisee_add_e2e(biscuit_cli biscuit_cli.py TIMEOUT 120)
kisee_add_e2e(biscuit_interop biscuit_interop.py TIMEOUT 180)
