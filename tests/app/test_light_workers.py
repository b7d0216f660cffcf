"""A web worker carries no data-science stack: pandas, numpy and scipy belong to the
notebooks, the reports the scheduler renders and the commands that need them, and would add
about 45 MB to every worker (docs/performance.md, the workers' memory)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from crm import create_app
create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(",".join(sorted(m for m in ("numpy", "pandas", "scipy", "statsmodels") if m in sys.modules)))
"""


def test_building_the_app_imports_no_data_science_library():
    loaded = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
