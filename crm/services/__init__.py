"""Domain rules, free of HTTP: views, CLI, scheduler jobs and the simulator call these."""
