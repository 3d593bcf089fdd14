"""Issue #19 item 5: the enterprise import is no existence or content oracle across jurisdictions."""
from sqlalchemy import select

from inspect_api.models import Enterprise
from inspect_api.services.access.actor import Actor
from inspect_api.services.registry.imports import import_enterprises_file
from inspect_api.services.registry.uscc import make_uscc

from .test_enterprise_import import HEADER, _xlsx


def _row(uscc, name, county):
    return [uscc, name, county, "地址", "C26", "小型", "无", "蓝", "", "张三", 13800000000]


def test_another_jurisdictions_code_is_refused_like_an_unknown_code_in_another_county(db, world):
    actor = Actor(world["supervisor_taocheng"])  # 桃城区 only
    shenzhou = world.ent_shenzhou  # 深州市, outside the importer's jurisdiction
    unknown = make_uscc("131182", 777_001)
    rows = [
        # the real row of the other jurisdiction's enterprise (would be "unchanged")
        _row(shenzhou.uscc, shenzhou.name, "深州市"),
        # the same code with other content (would be "updated"), claimed for the importer's own county
        _row(shenzhou.uscc, "改名化工有限公司", "桃城区"),
        # a code nobody has, in the other county
        _row(unknown, "不存在化工有限公司", "深州市"),
    ]
    for dry_run in (True, False):
        report = import_enterprises_file(db, actor, _xlsx([rows[0]]), dry_run=dry_run)
        first = report.as_dict()
        report2 = import_enterprises_file(db, actor, _xlsx([rows[1]]), dry_run=dry_run)
        report3 = import_enterprises_file(db, actor, _xlsx([rows[2]]), dry_run=dry_run)
        for rep in (report, report2, report3):
            assert (rep.created, rep.updated, rep.unchanged, rep.failed) == (0, 0, 0, 1)
        messages = [(e["reason"], e["fields"]) for e in (r.as_dict()["errors"][0] for r in (report, report2, report3))]
        assert messages[0] == messages[1] == messages[2], messages
        assert first["errors"][0]["row"] == report3.as_dict()["errors"][0]["row"]
    db.expire_all()
    assert db.get(Enterprise, shenzhou.id).name == shenzhou.name
    assert db.scalar(select(Enterprise).where(Enterprise.uscc == unknown)) is None


def test_an_import_clears_a_field_with_the_clear_marker_and_a_blank_cell_keeps_it(db, world):
    from .test_enterprise_import import _row as full_row

    actor = Actor(world["admin"])
    row = full_row(7)
    header = HEADER + ["纬度", "经度"]
    import_enterprises_file(db, actor, _xlsx([row + [37.7, 115.6]], header=header))
    ent = db.scalar(select(Enterprise).where(Enterprise.uscc == row[0]))
    assert ent.address and ent.risk_color and ent.latitude == 37.7
    cleared = list(row)
    cleared[3] = "(清空)"      # 地址
    cleared[7] = "（清空）"    # 风险等级
    cleared[8] = "[清空]"      # 重点监管危险化工工艺
    cleared[9] = None          # 联系人: blank, kept
    report = import_enterprises_file(db, actor, _xlsx([cleared + ["(清空)", None]], header=header))
    assert (report.updated, report.failed) == (1, 0), report.as_dict()
    db.expire_all()
    ent = db.get(Enterprise, ent.id)
    assert ent.address is None and ent.risk_color is None and ent.hazardous_processes == []
    assert ent.latitude is None and ent.longitude == 115.6 and ent.safety_contact


def test_an_import_refuses_nan_and_infinite_coordinates(db, world):
    from .test_enterprise_import import _row as full_row

    actor = Actor(world["admin"])
    header = HEADER + ["纬度", "经度"]
    report = import_enterprises_file(db, actor, _xlsx([full_row(8) + ["nan", "inf"]], header=header))
    assert report.failed == 1 and set(report.errors[0]["fields"]) == {"latitude", "longitude"}
