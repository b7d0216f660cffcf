"""The scheduler process (`flask crm scheduler`): periodic jobs, one active process at a time.

- ``jobs``: the jobs as data (``JOBS``), the functions they run, and the run log they write.
- ``lease``: the database lease that makes one process the active scheduler.
- ``runner``: the process itself: wait for the lease, run APScheduler while holding it.

Nothing here starts at import time, and the web app never imports it.
"""
