"""The manager's workspace: the team at a glance, the dashboard's figures, handover of a book of
customers, approval requests and the monthly ranking."""
