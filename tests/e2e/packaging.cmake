# The install rules and the deployment examples of packaging/.
kisee_add_e2e(packaging packaging.py)
