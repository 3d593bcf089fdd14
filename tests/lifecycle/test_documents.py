"""The notice and review PDFs open and carry the official form's fields in Chinese."""
from __future__ import annotations

import io
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pypdf
import pytest

from inspect_api.models import User, utcnow
from inspect_api.services.lifecycle.numbering import year_of

from .. import factories
from . import helpers
from .conftest import days_from_now, iso


def pdftotext(data: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is required"
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def squash(text: str) -> str:
    return "".join(text.split())


def test_notice_pdf_has_unit_problems_deadline_basis_remedies_and_both_officers(api, app, world, inspection):
    h1 = api.new_hazard(inspection, description="二号罐区可燃气体报警器失效", location="二号罐区",
                        basis="《危险化学品安全管理条例》第二十条")
    h2 = api.new_hazard(inspection, description="特种作业人员未持证上岗")
    deadline = days_from_now(20)
    notice = api.issue([h1["id"], h2["id"]], deadline=deadline, safety_measures="整改期间停止装卸作业")
    for username in ("enterprise1", "inspector1", "supervisor"):
        resp = api.client.get(f"/api/v1/notices/{notice['id']}/pdf", headers=api.h(username))
        assert resp.status_code == 200 and resp.mimetype == "application/pdf"
        assert "attachment" in resp.headers["Content-Disposition"]
    data = resp.data
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    text = squash(pdftotext(data))
    assert "□" not in text and "\ufffd" not in text, "no tofu"
    local = deadline.astimezone(ZoneInfo("Asia/Shanghai"))
    expected = [
        "衡水市桃城区应急管理局", "责令限期整改指令书", f"（桃城）应急责改〔{year_of(utcnow())}〕1号",
        "衡水示例化工有限公司", "1.二号罐区可燃气体报警器失效", "2.特种作业人员未持证上岗",
        "《危险化学品安全管理条例》第二十条", "《中华人民共和国安全生产法》第六十五条",
        f"第1至第2项问题于{local.year}年{local.month}月{local.day}日前整改完毕", "整改期间停止装卸作业",
        "60日内", "依照《中华人民共和国行政复议法》向衡水市桃城区人民政府申请行政复议", "6个月内",
        squash(app.config["LITIGATION_COURT"]), "提起行政诉讼",
        world["inspector1"].certificate_no, world["inspector2"].certificate_no, "被检查单位负责人",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    # pypdf reads the same Chinese text, set in the embedded CJK TrueType font
    assert "衡水示例化工有限公司" in squash(reader.pages[0].extract_text())
    assert "签收" not in text.split("被检查单位负责人")[1][:20]  # not acknowledged yet: a line to sign on paper
    assert_cjk_font_embedded(data)


def assert_cjk_font_embedded(data: bytes) -> None:
    """pdffonts: every font used is embedded (a subset), and one is the CJK face."""
    assert shutil.which("pdffonts"), "poppler-utils (pdffonts) is required"
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:  # pdffonts reads no pipe
        tmp.write(data)
        tmp.flush()
        out = subprocess.run(["pdffonts", tmp.name], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    used = [r for r in rows if not r[0].startswith("Helvetica")]  # reportlab's unused default face
    assert used and all(r[-5] == "yes" and r[-4] == "yes" for r in used), out  # emb, sub
    assert any("WenQuanYi" in r[0] for r in used), out


CLOSING = "，。、；：！？）》」』】〕〉”’"
OPENING = "（《「『【〔〈“‘"


def assert_line_breaking_rules(data: bytes) -> None:
    """禁则: no line starts with closing punctuation and none ends with an opening mark (pdftotext -layout)."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode("utf-8")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert len(lines) > 10
    bad_start = [line for line in lines if line[0] in CLOSING]
    bad_end = [line for line in lines if line[-1] in OPENING]
    assert not bad_start, bad_start
    assert not bad_end, bad_end


def test_notice_pdf_breaks_lines_by_the_chinese_rules_and_shows_the_online_acknowledgement(api, db, world,
                                                                                         inspection):
    from inspect_api.models import Notice

    # texts that put a "，" / "；" / "《" exactly at a line break at several offsets
    ids = [api.new_hazard(inspection, description="字" * k + "储罐区防火堤破损，排水阀常开，《储罐区防火堤设计规范》"
                          "要求的隔堤缺失，需要修补；监控摄像头缺失。", basis="《危险化学品安全管理条例》第二十条")["id"]
           for k in range(0, 40, 3)]
    notice = api.issue(ids, safety_measures="设置警戒区。；专人看护。")
    assert api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")[0] == 200
    resp = api.client.get(f"/api/v1/notices/{notice['id']}/pdf", headers=api.h("enterprise1"))
    data = resp.data
    assert_line_breaking_rules(data)
    assert_cjk_font_embedded(data)
    text = squash(pdftotext(data))
    n = db.get(Notice, notice["id"])
    local = n.acknowledged_at.astimezone(ZoneInfo("Asia/Shanghai"))
    who = world["enterprise1"].display_name
    assert f"被检查单位负责人：{who}（已于{local.year}年{local.month}月{local.day}日{local:%H:%M}在网上签收）" in text
    assert "。；" not in text and "；；" not in text and "。。" not in text


def test_review_pdf_joins_fields_without_doubled_punctuation(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="消防水泵未定期试运行。")
    notice = api.issue([hz["id"]])
    api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")
    status, rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications", {
        "description": "已更换水泵并完成安装。" * 6, "measures": "更换；", "funds": "12500.5",
        "responsible_person": "王五"})
    assert status == 201
    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "accepted", "opinion": "整改合格。", "onsite_check": "现场试运行正常，", "co_reviewer_id":
        world["inspector2"].id})
    assert status == 201
    data = api.client.get(f"/api/v1/reviews/{review['id']}/pdf", headers=api.h("enterprise1")).data
    text = squash(pdftotext(data))
    assert "已更换水泵并完成安装；整改措施：更换；整改资金：12,500.50元；整改责任人：王五。" in text.replace(
        "已更换水泵并完成安装。" * 5, "")
    for doubled in ("。；", "；；", "。。", "，。", "：："):
        assert doubled not in text, doubled
    assert_line_breaking_rules(data)
    assert_cjk_font_embedded(data)


def test_review_bodies_are_configurable_per_issuing_bureau(app, db, world):
    from inspect_api.services.lifecycle import documents

    n = helpers.notice(db, world)
    n.bureau_code, n.number = "131182", "（深州）应急责改〔2026〕3号"
    helpers.hazard(db, world, enterprise=world.ent1, status="ordered", notice_id=n.id)
    db.flush()
    cfg = documents.DocumentConfig.from_mapping(app.config)
    text = squash(pdftotext(documents.render_notice_pdf(db, n, cfg)))
    assert "深州市应急管理局" in text and "衡水市深州市" not in text
    assert "向深州市人民政府申请行政复议" in text and "向深州市人民法院提起行政诉讼" in text
    config = {**app.config, "ISSUING_BUREAUS": {"131182": {"review_body": "深州市人民政府行政复议办公室"}},
              "ADMIN_REVIEW_ARTICLE": "第二十条"}
    text = squash(pdftotext(documents.render_notice_pdf(db, n, documents.DocumentConfig.from_mapping(config))))
    assert "依照《中华人民共和国行政复议法》第二十条向深州市人民政府行政复议办公室申请行政复议" in text


def test_notice_pdf_of_the_city_bureau_names_the_configured_bodies(app, db, world):
    """A notice numbered by the city bureau uses BUREAU_NAME and ADMIN_REVIEW_BODY from the config."""
    from inspect_api.services.lifecycle import documents

    n = helpers.notice(db, world)
    n.bureau_code = "131100"
    n.number = "（衡水）应急责改〔2026〕9号"
    helpers.hazard(db, world, status="ordered", notice_id=n.id, description="装卸区未设置静电接地报警")
    db.flush()
    text = squash(pdftotext(documents.render_notice_pdf(db, n, documents.DocumentConfig.from_mapping(app.config))))
    assert squash(app.config["BUREAU_NAME"]) in text and squash(app.config["ADMIN_REVIEW_BODY"]) in text
    assert "装卸区未设置静电接地报警" in text and "（衡水）应急责改〔2026〕9号" in text


def test_review_pdf_after_each_review_carries_the_opinion_and_officers(api, db, world, inspection):
    hz = api.new_hazard(inspection, description="消防水泵未定期试运行")
    notice = api.issue([hz["id"]])
    api.post("enterprise1", f"/notices/{notice['id']}/acknowledge")
    status, rect = api.post("enterprise1", f"/hazards/{hz['id']}/rectifications",
                            {"description": "已试运行并建立记录", "funds": "0", "responsible_person": "王五"})
    assert status == 201
    status, review = api.post("inspector1", f"/rectifications/{rect['id']}/review", {
        "result": "rejected", "opinion": "试运行记录不完整", "onsite_check": "查阅记录缺少三月份",
        "new_deadline_at": iso(days_from_now(5)), "co_reviewer_id": world["inspector2"].id})
    assert status == 201
    resp = api.client.get(f"/api/v1/reviews/{review['id']}/pdf", headers=api.h("enterprise1"))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = squash(pdftotext(resp.data))
    for fragment in ["整改复查意见书", review["number"], "衡水示例化工有限公司", notice["number"], "消防水泵未定期试运行",
                     "整改不合格", "试运行记录不完整", "查阅记录缺少三月份", "王五", world["inspector1"].certificate_no,
                     world["inspector2"].certificate_no, "重新整改完毕"]:
        assert fragment in text, fragment
    assert api.client.get(f"/api/v1/reviews/{review['id']}/pdf", headers=api.h("enterprise2")).status_code == 404


@pytest.mark.parametrize("officer2,field_error", [
    ("inspector1", "the same officer twice"),
    ("inspector3", "an officer of another county"),
    ("enterprise1", "not an inspector"),
])
def test_a_notice_needs_two_distinct_officers_of_the_jurisdiction(api, world, inspection, officer2, field_error):
    hz = api.new_hazard(inspection)
    status, body = api.post("inspector1", "/notices", {"hazard_ids": [hz["id"]], "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": world[officer2].id})
    assert status == 422 and "officer2_id" in body["details"]["fields"], field_error
    assert api.hazard(hz["id"])["status"] == "found"
    status, notices = api.get("inspector1", "/notices")
    assert notices == []


def test_notice_numbers_count_per_bureau_and_year(api, db, world, inspection):
    numbers = [api.issue([api.new_hazard(inspection, description=f"隐患{i}")["id"]])["number"] for i in range(3)]
    year = year_of(utcnow())
    assert numbers == [f"（桃城）应急责改〔{year}〕{i}号" for i in (1, 2, 3)]
    other = helpers.inspection(db, world, enterprise=world.ent_shenzhou, lead="inspector3", co="inspector3")
    db.commit()
    status, hz = api.post("inspector3", "/hazards", {"inspection_id": other.id, "description": "深州隐患"})
    assert status == 201
    status, body = api.post("inspector3", "/notices", {"hazard_ids": [hz["id"]], "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": world["inspector1"].id})
    assert status == 422, "inspector1 has no jurisdiction in 深州市"
    factories.user(db, "inspector_shenzhou2", "inspector", region="131182")
    db.commit()
    status, body = api.post("inspector3", "/notices", {"hazard_ids": [hz["id"]], "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": world["inspector3"].id})
    assert status == 422
    second = db.query(User).filter_by(username="inspector_shenzhou2").one()
    status, body = api.post("inspector3", "/notices", {"hazard_ids": [hz["id"]], "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": second.id})
    assert status == 201 and body["number"] == f"（深州）应急责改〔{year}〕1号"


def test_a_notice_is_refused_for_hazards_not_found_or_mixed(api, db, world, inspection):
    h1 = api.new_hazard(inspection)
    api.issue([h1["id"]])
    h2 = api.new_hazard(inspection)
    status, body = api.post("inspector1", "/notices", {"hazard_ids": [h1["id"], h2["id"]],
                                                       "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": world["inspector2"].id})
    assert status == 409 and body["code"] == "invalid_transition"
    other = helpers.inspection(db, world)
    db.commit()
    h3 = api.new_hazard(other)
    status, body = api.post("inspector1", "/notices", {"hazard_ids": [h2["id"], h3["id"]],
                                                       "deadline_at": iso(days_from_now(5)),
                                                       "officer2_id": world["inspector2"].id})
    assert status == 422 and "hazard_ids" in body["details"]["fields"]
    status, body = api.post("inspector1", "/notices", {"hazard_ids": [h2["id"]], "deadline_at": iso(days_from_now(-1)),
                                                       "officer2_id": world["inspector2"].id})
    assert status == 422 and "deadline_at" in body["details"]["fields"]
    status, body = api.post("enterprise1", "/notices", {"hazard_ids": [h2["id"]], "deadline_at": iso(days_from_now(3)),
                                                        "officer2_id": world["inspector2"].id})
    assert status == 403
    assert api.hazard(h2["id"])["status"] == "found" and api.hazard(h3["id"])["status"] == "found"
