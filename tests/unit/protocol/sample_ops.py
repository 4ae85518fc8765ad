"""Invented but realistic change ops (a volunteer's shift), for codec and engine tests."""

from __future__ import annotations

import random

from sync.hlc import HybridClock
from sync.ops import Op, new_id

SURNAMES = "张王李赵刘陈杨黄周吴"
GIVEN = ("秀英", "建国", "桂兰", "志强", "玉梅", "国华", "淑珍", "海涛", "丽娟", "德胜")
BUILDINGS = ("观海轩", "听涛阁", "望月苑")
NOTES = (
    "已上门采样，老人行动不便，需下次继续上门",
    "家中无人，电话联系后约定下午再来",
    "需要降压药（硝苯地平），已登记代购",
    "独居老人，情绪稳定，冰箱食物充足",
    "孩子发烧 38.2℃，已联系社区医生",
)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def address(rng: random.Random) -> str:
    return (
        f"{rng.choice(BUILDINGS)} {rng.randint(1, 6)}栋 {rng.randint(1, 3)}单元 "
        f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
    )


def request_op(
    rng: random.Random, stamp: str, device: str, member: str, category: str, urgency: str
) -> Op:
    """A resident's open request for ``category`` at ``urgency``, with a note from ``NOTES``."""
    return Op(
        new_id("o"),
        "request",
        new_id("r"),
        stamp,
        device,
        member,
        set={
            "household_id": new_id("h"),
            "category": category,
            "urgency": urgency,
            "detail": rng.choice(NOTES),
            "status": "open",
        },
    )


def shift_ops(
    n: int,
    *,
    device: str = "dev-1",
    member: str = "mem-1",
    seed: int = 7,
    urgent_every: int = 0,
) -> list[Op]:
    """``n`` ops of the kinds a volunteer records in one shift (visits, requests, statuses)."""
    rng = random.Random(seed)
    clock = HybridClock()
    ops: list[Op] = []
    for i in range(n):
        stamp = clock.now()
        if urgent_every and i % urgent_every == 0:
            urgency = rng.choice(("urgent", "emergency"))
            ops.append(request_op(rng, stamp, device, member, "medicine", urgency))
        elif i % 3 == 0:
            ops.append(
                Op(
                    new_id("o"),
                    "assignment",
                    new_id("a"),
                    stamp,
                    device,
                    member,
                    set={"status": "done", "result": "sampled"},
                    seen={"status": "in_progress"},
                    add={
                        "visits": (
                            {
                                "id": new_id("v"),
                                "at": stamp,
                                "outcome": rng.choice(("sampled", "no_answer", "refused")),
                                "note": rng.choice(NOTES),
                            },
                        )
                    },
                )
            )
        elif i % 3 == 1:
            category = rng.choice(("food_goods", "medicine", "information"))
            ops.append(request_op(rng, stamp, device, member, category, "routine"))
        else:
            ops.append(
                Op(
                    new_id("o"),
                    "resident",
                    new_id("p"),
                    stamp,
                    device,
                    member,
                    set={
                        "name": person(rng),
                        "phone": f"138{rng.randint(0, 99_999_999):08d}",
                        "address": address(rng),
                        "care_flags": ["elderly_alone"] if rng.random() < 0.3 else [],
                    },
                )
            )
    return ops
