"""flask import-enterprises / import-checklist: print the report, non-zero exit when rows failed."""
import json

from sqlalchemy import func, select

from inspect_api.models import ChecklistTemplate, Enterprise
from inspect_api.services.registry.uscc import make_uscc


def _enterprises_in(db, region):
    return db.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.region_id == region))


def _templates(db, code):
    return db.scalar(select(func.count()).select_from(ChecklistTemplate)
                     .where(ChecklistTemplate.code == code))


def _csv(tmp_path, lines, name="e.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding))
    return str(path)


def test_import_enterprises_prints_the_report_and_exits_1_when_rows_failed(app, db, world, tmp_path):
    path = _csv(tmp_path, ["统一社会信用代码,企业名称,所属区县,风险等级",
                           f"{make_uscc('131102', 8101)},衡水命令行化工有限公司,桃城区,黄",
                           "91131102000000000X,衡水坏代码化工有限公司,桃城区,黄"])
    result = app.test_cli_runner().invoke(args=["import-enterprises", path])
    assert result.exit_code == 1, result.output
    assert "created 1, updated 0, unchanged 0, failed 1" in result.output
    assert "第 3 行" in result.output and "校验位" in result.output
    assert db.scalar(select(func.count()).select_from(Enterprise)
                     .where(Enterprise.name == "衡水命令行化工有限公司")) == 1
    again = app.test_cli_runner().invoke(args=["import-enterprises", path])
    assert "created 0, updated 0, unchanged 1, failed 1" in again.output


def test_import_enterprises_exits_0_when_every_row_is_good_and_dry_run_saves_nothing(
        app, db, world, tmp_path):
    path = _csv(tmp_path, ["uscc,name,region_code",
                           f"{make_uscc('131182', 8102)},深州命令行化工有限公司,131182"], encoding="gb18030")
    dry = app.test_cli_runner().invoke(args=["import-enterprises", "--dry-run", "--json", path])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["created"] == 1
    assert _enterprises_in(db, "131182") == 1
    real = app.test_cli_runner().invoke(args=["import-enterprises", path])
    assert real.exit_code == 0, real.output
    assert _enterprises_in(db, "131182") == 2


def test_import_enterprises_with_an_unreadable_file_exits_2(app, db, world, tmp_path):
    path = _csv(tmp_path, ["名称,备注", "x,y"])
    result = app.test_cli_runner().invoke(args=["import-enterprises", path])
    assert result.exit_code == 2
    assert "统一社会信用代码" in result.output


def test_import_checklist_from_json_then_again_is_unchanged(app, db, world, tmp_path):
    doc = {"code": "CLI", "title": "命令行检查表",
           "items": [{"category": "电气", "content": "防爆电气是否完好", "basis": "GB 50058"}]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-checklist", str(path), "--publish"])
    assert result.exit_code == 0, result.output
    assert "CLI v1 published — created, 1 items" in result.output
    again = app.test_cli_runner().invoke(args=["import-checklist", str(path), "--publish"])
    assert "unchanged" in again.output
    assert _templates(db, "CLI") == 1


def test_import_checklist_with_a_bad_row_exits_1_and_saves_nothing(app, db, world, tmp_path):
    doc = {"code": "BAD", "title": "坏检查表", "items": [{"category": "电气", "content": ""}]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-checklist", str(path)])
    assert result.exit_code == 1
    assert "第 1 行" in result.output and "检查内容不能为空" in result.output
    assert _templates(db, "BAD") == 0
