"""The catalogue every install gets: 安监总管三〔2017〕121号, its 20 situations verbatim (texts verified
against public reprints: /work/shared/domain/reference.json ``major_hazard_criteria_2017``).

Frozen data: migration 0007 inserts it, and ``install_builtin_catalogues`` (tests, ``flask seed-demo``,
``flask criteria install-builtin``) inserts the same rows with the same ids when they are missing. Never
edit a text here: a corrected standard is a new catalogue version, imported and published.

The document's issue date is not in the verified reference, so ``effective_from`` is left open (None:
in force for every earlier day); it ends when a successor that names it is published.
"""
from __future__ import annotations

import sqlalchemy as sa

HC2017_ID = "crit-HC2017-v1"
HC2017 = {
    "id": HC2017_ID, "code": "HC2017", "version": 1,
    "title": '化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）',
    "doc_no": "安监总管三〔2017〕121号",
    "kind": "national_rule", "industries": "", "region_code": None,
    "scope_note": "化工和危险化学品生产经营单位（全国）",
    "effective_from": None, "effective_to": None, "status": "published", "replaces_id": None,
    "source": "安监总管三〔2017〕121号；条文经公开转载核对（163.com、anzhuopai.com）",
}
# (number, the code hazards carry on the version-1 wire, text)
HC2017_CLAUSES = (
    (1, 'HC2017-01', '危险化学品生产、经营单位主要负责人和安全生产管理人员未依法经考核合格。'),
    (2, 'HC2017-02', '特种作业人员未持证上岗。'),
    (3, 'HC2017-03', '涉及“两重点一重大”的生产装置、储存设施外部安全防护距离不符合国家标准要求。'),
    (4, 'HC2017-04', '涉及重点监管危险化工工艺的装置未实现自动化控制，系统未实现紧急停车功能，装备的自动化控制系统、紧急停车系统未投入使用。'),
    (5, 'HC2017-05', '构成一级、二级重大危险源的危险化学品罐区未实现紧急切断功能；涉及毒性气体、液化气体、剧毒液体的一级、二级重大危险源的危险化学品罐区未配备独立的安全仪表系统。'),
    (6, 'HC2017-06', '全压力式液化烃储罐未按国家标准设置注水措施。'),
    (7, 'HC2017-07', '液化烃、液氨、液氯等易燃易爆、有毒有害液化气体的充装未使用万向管道充装系统。'),
    (8, 'HC2017-08', '光气、氯气等剧毒气体及硫化氢气体管道穿越除厂区(包括化工园区、工业园区）外的公共区域。'),
    (9, 'HC2017-09', '地区架空电力线路穿越生产区且不符合国家标准要求。'),
    (10, 'HC2017-10', '在役化工装置未经正规设计且未进行安全设计诊断。'),
    (11, 'HC2017-11', '使用淘汰落后安全技术工艺、设备目录列出的工艺、设备。'),
    (12, 'HC2017-12', '涉及可燃和有毒有害气体泄漏的场所未按国家标准设置检测报警装置，爆炸危险场所未按国家标准安装使用防爆电气设备。'),
    (13, 'HC2017-13', '控制室或机柜间面向具有火灾、爆炸危险性装置一侧不满足国家标准关于防火防爆的要求。'),
    (14, 'HC2017-14', '化工生产装置未按国家标准要求设置双重电源供电，自动化控制系统未设置不间断电源。'),
    (15, 'HC2017-15', '安全阀、爆破片等安全附件未正常投用。'),
    (16, 'HC2017-16', '未建立与岗位相匹配的全员安全生产责任制或者未制定实施生产安全事故隐患排查治理制度。'),
    (17, 'HC2017-17', '未制定操作规程和工艺控制指标。'),
    (18, 'HC2017-18', '未按照国家标准制定动火、进入受限空间等特殊作业管理制度，或者制度未有效执行。'),
    (19, 'HC2017-19', '新开发的危险化学品生产工艺未经小试、中试、工业化试验直接进行工业化生产；国内首次使用的化工工艺未经过省级人民政府有关部门组织的安全可靠性论证；新建装置未制定试生产方案投料开车；精细化工企业未按规范性文件要求开展反应安全风险评估。'),
    (20, 'HC2017-20', '未按国家标准分区分类储存危险化学品，超量、超品种储存危险化学品，相互禁配物质混放混存。'),
)


def clause_id(code: str) -> str:
    return f"crit-{code}"


def builtin_rows() -> tuple[dict, list[dict]]:
    """The catalogue row and its clause rows (without timestamps and sync columns)."""
    clauses = [{"id": clause_id(code), "catalogue_id": HC2017_ID, "number": str(no), "code": code, "position": no,
                "group_title": None, "text": text, "guidance": None} for no, code, text in HC2017_CLAUSES]
    return dict(HC2017), clauses


def insert_builtin(conn, now) -> int:
    """Insert the built-in catalogue and clauses that are missing, taking sync cursors for them
    (Core only: migration 0007 calls it too). Returns how many rows were inserted."""
    meta = sa.MetaData()
    cat_t = sa.Table("criteria_catalogues", meta, autoload_with=conn)
    clause_t = sa.Table("criteria_clauses", meta, autoload_with=conn)
    state = sa.Table("sync_state", meta, autoload_with=conn)
    catalogue, clauses = builtin_rows()
    have = set(conn.execute(sa.select(cat_t.c.id).where(cat_t.c.id == HC2017_ID)).scalars())
    have |= set(conn.execute(sa.select(clause_t.c.id).where(
        clause_t.c.id.in_([c["id"] for c in clauses]))).scalars())
    todo = ([catalogue] if HC2017_ID not in have else []) + [c for c in clauses if c["id"] not in have]
    if not todo:
        return 0
    last = conn.execute(state.update().where(state.c.id == 1).values(seq=state.c.seq + len(todo))
                        .returning(state.c.seq)).scalar()
    if last is None:
        conn.execute(state.insert().values(id=1, seq=len(todo)))
        last = len(todo)
    seq = last - len(todo)
    for row in todo:
        seq += 1
        row.update(created_at=now, updated_at=now, sync_seq=seq, created_seq=seq, deleted_at=None,
                   sync_origin=None)
        if row["id"] == HC2017_ID:
            row.update(published_at=now, published_by_id=None, created_by_id=None)
            conn.execute(cat_t.insert().values(**row))
        else:
            conn.execute(clause_t.insert().values(**row))
    return len(todo)
