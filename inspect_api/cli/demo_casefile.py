"""Demo data for case files: the legal officer, and a closed enforcement case ready to archive (衡水市华北气体).

``seed_casefile`` is called with one line at the end of seed_demo; ``build_closed_case`` is also what the
casefile tests use to make a case the way the officers would: an inspection, a hazard ordered, signed for,
fixed and reviewed, a case opened, a fine decided, served, paid, and the case closed — every step through
the lifecycle services, so every step is audited.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import io
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import EnforcementCase, Enterprise, Inspection, Photo, User, utcnow
from ..services.access.actor import Actor

LEGAL_USER = ("legal", "legal", "131102", None, "13110221090", "桃城区应急管理局 法制股 陈静")
DEMO_CASE_INSPECTION = "DemoCaseInspect1"
# A 桃城区 demo enterprise without a portal account, so the other demo enterprises' data stay as they are
DEMO_CASE_ENTERPRISE = "衡水市华北气体有限公司"


def _jpeg(seed: int, size=(640, 480)) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    ImageDraw.Draw(im).rectangle([40, 40, 200 + seed % 200, 200], outline=(255, 255, 255), width=6)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def add_photo(session: Session, storage, owner_table: str, owner, user: User, taken_at, seed: int) -> Photo:
    """A ready photo whose original is stored (as an upload would leave it)."""
    import hashlib

    from ..services.evidence.photos import original_key

    data = _jpeg(seed)
    sha = hashlib.sha256(data).hexdigest()
    key = original_key(sha)
    storage.save(key, io.BytesIO(data), "image/jpeg")
    photo = Photo(owner_table=owner_table, owner_id=owner.id, enterprise_id=owner.enterprise_id,
                  region_code=owner.region_code, sha256=sha, content_type="image/jpeg", size=len(data), width=640,
                  height=480, taken_at=taken_at, latitude=37.739, longitude=115.67, status="ready", storage_key=key,
                  created_by_id=user.id)
    session.add(photo)
    session.flush()
    return photo


def build_closed_case(session: Session, lead: User, co: User, enterprise: Enterprise, enterprise_user: User | None,
                      bureau_code: str = "131100", storage=None, inspection_id: str | None = None,
                      photos: int = 1) -> EnforcementCase:
    from ..services.casefile.service import record_service
    from ..services.lifecycle.enforcement import close_case, open_case, record_payment, record_penalty
    from ..services.lifecycle.hazards import create_hazard
    from ..services.lifecycle.notices import acknowledge_notice, issue_notice
    from ..services.lifecycle.rectifications import report_rectification, review_rectification

    officer = Actor(lead, ip="seed")
    company = Actor(enterprise_user, ip="seed") if enterprise_user is not None else None
    now = utcnow()
    started = now - timedelta(days=20)
    insp = Inspection(enterprise_id=enterprise.id, region_code=enterprise.region_id, lead_inspector_id=lead.id,
                      co_inspector_id=co.id, started_at=started, finished_at=started + timedelta(hours=2),
                      status="submitted", note="对储罐区、装卸区进行现场检查", created_by_id=lead.id)
    if inspection_id:
        insp.id = inspection_id
    session.add(insp)
    session.flush()
    hazard = create_hazard(session, officer, {
        "inspection_id": insp.id, "description": "液氨储罐区可燃气体报警器未投入使用", "location": "液氨储罐区",
        "basis": "《危险化学品企业安全风险隐患排查治理导则》", "found_at": started + timedelta(minutes=40)})
    for i in range(photos if storage is not None else 0):
        add_photo(session, storage, "hazards", hazard, lead, started + timedelta(minutes=41 + i), seed=i + 1)
    notice = issue_notice(session, officer, {
        "hazard_ids": [hazard.id], "officer2_id": co.id, "issued_at": started + timedelta(hours=3),
        "deadline_at": _day_end(now - timedelta(days=5)), "safety_measures": "整改期间停止液氨装卸作业"}, bureau_code)
    if company is not None:  # the enterprise signs for the notice and reports the fix in the portal
        acknowledge_notice(session, company, notice)
        rect = report_rectification(session, company, hazard, {
            "description": "报警器已修复并接入DCS，完成联动测试", "measures": "更换探头，校验报警值",
            "funds": Decimal("12800.00"), "responsible_person": "设备部 周工",
            "completed_on": (now - timedelta(days=6)).date()})
        review_rectification(session, officer, rect, {"result": "accepted", "onsite_check": "现场测试报警联动正常",
                                                      "co_reviewer_id": co.id}, bureau_code)
    else:  # no enterprise account: the notice was served on paper
        record_service(session, officer, {"document_table": "notices", "document_id": notice.id,
                                          "served_at": started + timedelta(hours=3, minutes=20), "method": "direct",
                                          "recipient": "企业安全负责人", "officer2_id": co.id})
    case = open_case(session, officer, {"inspection_id": insp.id, "hazard_ids": [hazard.id],
                                        "cause": "涉嫌未保证安全设施正常使用", "source": "现场检查",
                                        "summary": "现场检查发现液氨储罐区可燃气体报警器未投入使用。"}, bureau_code)
    decision = record_penalty(session, officer, case, {
        "kind": "fine", "amount": Decimal("30000"), "basis": "《中华人民共和国安全生产法》第九十九条第（三）项"},
        bureau_code)
    record_service(session, officer, {"document_table": "penalty_decisions", "document_id": decision.id,
                                      "served_at": utcnow(), "method": "direct", "recipient": "企业负责人 孙总",
                                      "place": enterprise.address or "企业办公室", "officer2_id": co.id})
    record_payment(session, officer, decision, {"paid_amount": Decimal("30000")})
    close_case(session, officer, case, reason="罚款已缴清，执行完毕")
    return case


def seed_casefile(session: Session, actor: Actor, *, password: str, bureau_code: str = "131100",
                  activity: bool = True) -> None:
    """The legal demo user, and (with activity) a closed case of 桃城区 ready to archive. Reruns are no-ops."""
    from ..services.accounts import users as user_service

    username, role, region, _, certificate, display = LEGAL_USER
    if session.scalars(select(User).where(User.username == username)).first() is None:
        user_service.create_user(session, actor, {
            "username": username, "password": password, "role": role, "region_code": region,
            "certificate_no": certificate, "display_name": display, "must_change_password": False},
            check_policy=False)  # the README's demo password (development only)
    if not activity or session.get(Inspection, DEMO_CASE_INSPECTION) is not None:
        return
    people = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(("inspector1", "inspector2"))))}
    enterprise = session.scalars(select(Enterprise).where(Enterprise.name == DEMO_CASE_ENTERPRISE)).first()
    if len(people) < 2 or enterprise is None or enterprise.region_id != people["inspector1"].region_id:
        return  # the demo data were changed by hand: leave them alone
    build_closed_case(session, people["inspector1"], people["inspector2"], enterprise, None, bureau_code,
                      inspection_id=DEMO_CASE_INSPECTION)


def _day_end(when):
    """A deadline given as a day ends at 23:59 Beijing time, as the portal enters them."""
    local = when.astimezone(ZoneInfo("Asia/Shanghai")).replace(hour=23, minute=59, second=0, microsecond=0)
    return local.astimezone(when.tzinfo)
