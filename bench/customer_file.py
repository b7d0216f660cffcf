"""The customer list the import benchmark (bench/importer.py) imports: the same file every run
(seeded), as Excel saves "CSV UTF-8" (a byte-order mark, Chinese headers), with liquid assets
log-normal around ¥400,000 and a third of the customers tagged."""

from __future__ import annotations

import csv
import io
import math
import random
from datetime import date, timedelta

SEED = 20261124
HEADERS = (
    "姓名", "手机", "性别", "出生日期", "流动资产", "意愿", "风险等级", "获客渠道",
    "客户经理", "标签", "短信同意", "邮箱",
)  # fmt: skip
CHANNELS = ("缘故客户", "转介绍", "成交客户", "活动", "")
TAGS = ("高净值", "退休", "企业主", "子女教育", "养老规划")


def generate_csv(count: int, owners: list[str]) -> bytes:
    """The same list every run (seeded): UTF-8 with a BOM, Chinese headers."""
    rng = random.Random(SEED)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    born_from = date(1945, 1, 1)
    for n in range(1, count + 1):
        fen = round(40_000_000 * math.exp(1.36 * rng.gauss(0.0, 1.0)))
        tags = rng.sample(TAGS, rng.choice((0, 0, 1, 2)))
        writer.writerow(
            (
                f"导入客户{n:06d}",
                f"139{n:08d}",
                ("男", "女", "")[n % 3],
                (born_from + timedelta(days=rng.randrange(20_000))).isoformat(),
                f"{fen // 100}.{fen % 100:02d}",
                rng.randint(0, 100),
                f"R{rng.randint(1, 5)}",
                CHANNELS[n % len(CHANNELS)],
                owners[n % len(owners)],
                "，".join(tags),
                "是" if n % 2 else "否",
                f"client{n}@example.com" if n % 4 == 0 else "",
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
