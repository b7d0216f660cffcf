"""gunicorn's settings, read from the working directory (`make run` and production start it
from the repository's root).

The access log names the method, the path and the answer, never a query string or a referrer:
those carry what staff searched for (customers' names and phones) and, on a provider's SMS
callback that cannot send headers, the shared inbound token (`/sms/inbound?token=…`).
"""

access_log_format = '%(h)s - %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
