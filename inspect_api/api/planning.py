"""Enforcement planning: annual plans, 双随机 draws (with re-verification), inspection tasks, 检查码."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from .common import Blueprint  # the strict parser (api/common.py)
from marshmallow import fields, validate

from ..extensions import db
from ..schemas.common import ApiErrorSchema, StrictSchema
from ..schemas.planning import (
    CodeResultSchema, CodeSchema, DrawCreateSchema, DrawSchema, DrawTasksSchema, PlanAmendSchema, PlanCreateSchema,
    PlanQuerySchema, InspectionPlanSchema, PlanUpdateSchema, ReasonSchema, RedrawSchema, InspectionTaskCreateSchema, InspectionTaskQuerySchema,
    InspectionTaskSchema, DrawVerifyResultSchema, DrawVerifySchema,
)
from ..services.lifecycle.documents import DocumentConfig
from ..services.planning import documents as docs_service
from ..services.planning import draw as draw_service
from ..services.planning import plans as plan_service
from ..services.planning import stats as stats_service
from ..services.planning import tasks as task_service
from .common import paginate
from .notices import pdf_response
from .security import auth_required, current_actor
from .stats import download

blp = Blueprint("planning_api", __name__, url_prefix="/api/v1",
                description="Enforcement planning: 年度计划, 双随机抽取, 检查任务, 检查码")
STAFF = ("inspector", "supervisor", "admin")


class FormatSchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class YearSchema(StrictSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class RecordSchema(StrictSchema):
    recorder_id = fields.String()
    representative = fields.String(validate=validate.Length(max=100))
    refused_to_sign = fields.Boolean(load_default=False)


@blp.route("/plans")
class Plans(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, InspectionPlanSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Annual plans of the caller's jurisdiction, newest first."""
        return paginate(plan_service.plans_stmt(current_actor().user, **args), pagination_parameters)

    @auth_required("supervisor", "admin")
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, InspectionPlanSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="plan_exists")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data):
        """A draft plan: capacity, days per class, annual cap, marked key enterprises."""
        return plan_service.create_plan(db.session, current_actor(), data)


@blp.route("/plans/<plan_id>")
class PlanById(MethodView):
    @auth_required(*STAFF)
    @blp.etag
    @blp.response(200, InspectionPlanSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, plan_id):
        """One plan; send its ETag back as If-Match on PATCH."""
        return plan_service.get_plan(db.session, current_actor().user, plan_id)

    @auth_required("supervisor", "admin")
    @blp.etag
    @blp.arguments(PlanUpdateSchema)
    @blp.response(200, InspectionPlanSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="plan_immutable: approved plans are amended, not edited")
    def patch(self, data, plan_id):
        """Edit a draft; needs If-Match (stale: 412)."""
        actor = current_actor()
        plan = plan_service.get_plan(db.session, actor.user, plan_id, for_update=True)
        blp.check_etag(plan, InspectionPlanSchema)
        return plan_service.update_plan(db.session, actor, plan, data)


def _plan_action(name):
    def post(self, plan_id):
        actor = current_actor()
        plan = plan_service.get_plan(db.session, actor.user, plan_id, for_update=True)
        return getattr(plan_service, f"{name}_plan")(db.session, actor, plan)
    return post


@blp.route("/plans/<plan_id>/approve")
class PlanApprove(MethodView):
    @auth_required("supervisor", "admin")
    @blp.response(200, InspectionPlanSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, plan_id):
        """Approve a draft (supervisor): from now on it is immutable."""
        return _plan_action("approve")(self, plan_id)


@blp.route("/plans/<plan_id>/publish")
class PlanPublish(MethodView):
    @auth_required("supervisor", "admin")
    @blp.response(200, InspectionPlanSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, plan_id):
        """Publish an approved plan; an older version in force is superseded."""
        return _plan_action("publish")(self, plan_id)


@blp.route("/plans/<plan_id>/amend")
class PlanAmend(MethodView):
    @auth_required("supervisor", "admin")
    @blp.arguments(PlanAmendSchema)
    @blp.response(201, InspectionPlanSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, data, plan_id):
        """A new draft version of an approved plan, with the reason (audited)."""
        actor = current_actor()
        plan = plan_service.get_plan(db.session, actor.user, plan_id)
        reason = data.pop("reason")
        return plan_service.amend_plan(db.session, actor, plan, data, reason)


@blp.route("/plans/<plan_id>/completion")
class PlanCompletion(MethodView):
    @auth_required(*STAFF)
    @blp.response(200)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, plan_id):
        """Plan completion: tasks planned / done / overdue / open by kind and county; key coverage."""
        user = current_actor().user
        return stats_service.plan_completion(db.session, user, plan_service.get_plan(db.session, user, plan_id))


@blp.route("/plans/<plan_id>/draws")
class PlanDraws(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, DrawSchema(many=True))
    def get(self, plan_id):
        """The plan's draws, newest first."""
        user = current_actor().user
        plan_service.get_plan(db.session, user, plan_id)
        return list(db.session.scalars(draw_service.draws_stmt(user, plan_id)))

    @auth_required("supervisor", "admin")
    @blp.arguments(DrawCreateSchema)
    @blp.response(201, DrawSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data, plan_id):
        """双随机 draw over the eligible register (filters), recorded with its seed and algorithm."""
        actor = current_actor()
        plan = plan_service.get_plan(db.session, actor.user, plan_id)
        return draw_service.make_draw(db.session, actor, plan, data)


@blp.route("/draws/<draw_id>")
class DrawById(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, DrawSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, draw_id):
        """One draw with its full record (inputs, seed, algorithm, result, digests)."""
        return draw_service.get_draw(db.session, current_actor().user, draw_id)


@blp.route("/draws/<draw_id>/verify")
class DrawVerify(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(DrawVerifySchema)
    @blp.response(200, DrawVerifyResultSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="draw_inputs_mismatch: other inputs than recorded")
    def post(self, data, draw_id):
        """Re-run the draw from its record and compare with the stored result and the audited digests."""
        draw = draw_service.get_draw(db.session, current_actor().user, draw_id)
        return draw_service.verify_draw(db.session, draw, data or None)


@blp.route("/draws/<draw_id>/redraw")
class DrawRedraw(MethodView):
    @auth_required("supervisor", "admin")
    @blp.arguments(RedrawSchema)
    @blp.response(201, DrawSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, data, draw_id):
        """A new audited draw replacing this one, with a reason (a fresh seed)."""
        actor = current_actor()
        return draw_service.redraw(db.session, actor, draw_service.get_draw(db.session, actor.user, draw_id), data)


@blp.route("/draws/<draw_id>/tasks")
class DrawTasks(MethodView):
    @auth_required("supervisor", "admin")
    @blp.arguments(DrawTasksSchema)
    @blp.response(201, InspectionTaskSchema(many=True))
    def post(self, data, draw_id):
        """双随机 tasks for the drawn enterprises and their pairs."""
        actor = current_actor()
        return task_service.tasks_from_draw(db.session, actor, draw_service.get_draw(db.session, actor.user, draw_id), data)


@blp.route("/draws/<draw_id>/publication")
class DrawPublication(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(FormatSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args, draw_id):
        """抽查结果公示 (enterprise, time, items, outcome) as CSV (UTF-8 with BOM) or XLSX."""
        draw = draw_service.get_draw(db.session, current_actor().user, draw_id)
        rows = stats_service.publication_rows(db.session, draw)
        chunks = stats_service.table_export(f"抽查结果公示 {draw.period_label}", stats_service.PUBLICATION_HEADER,
                                            rows, args["format"])
        return download(chunks,
                        args["format"], f"抽查结果公示_{draw.period_label}", f"draw-publication-{draw.id}")


@blp.route("/tasks")
class Tasks(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(InspectionTaskQuerySchema, location="query")
    @blp.response(200, InspectionTaskSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Inspection tasks of the caller's jurisdiction (mine=true: assigned to me)."""
        return paginate(task_service.tasks_stmt(current_actor().user, **args), pagination_parameters)

    @auth_required(*STAFF)
    @blp.arguments(InspectionTaskCreateSchema)
    @blp.response(201, InspectionTaskSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="annual_cap_exceeded")
    @blp.alt_response(422, schema=ApiErrorSchema, description="two_inspectors_required, inspector_out_of_jurisdiction …")
    def post(self, data):
        """A task; outside the plan it needs a reason and a supervisor's approval."""
        return task_service.create_task(db.session, current_actor(), data)


@blp.route("/tasks/<task_id>")
class TaskById(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, InspectionTaskSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, task_id):
        """One task."""
        return task_service.get_task(db.session, current_actor().user, task_id)


@blp.route("/tasks/<task_id>/approve")
class TaskApprove(MethodView):
    @auth_required("supervisor", "admin")
    @blp.arguments(ReasonSchema)
    @blp.response(200, InspectionTaskSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, data, task_id):
        """审批: approve a task outside the plan."""
        actor = current_actor()
        return task_service.approve_task(db.session, actor, task_service.get_task(db.session, actor.user, task_id),
                                         data.get("reason"))


@blp.route("/tasks/<task_id>/cancel")
class TaskCancel(MethodView):
    @auth_required("supervisor", "admin")
    @blp.arguments(ReasonSchema)
    @blp.response(200, InspectionTaskSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, data, task_id):
        """Cancel an open task, with a reason."""
        actor = current_actor()
        return task_service.cancel_task(db.session, actor, task_service.get_task(db.session, actor.user, task_id),
                                        data.get("reason"))


def _config():
    return DocumentConfig.from_mapping(current_app.config)


@blp.route("/tasks/<task_id>/notice.pdf")
class TaskNoticePdf(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, content_type="application/pdf", description="检查任务通知书")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, task_id):
        """检查任务通知书 as PDF (numbered the first time)."""
        actor = current_actor()
        task = task_service.get_task(db.session, actor.user, task_id)
        docs_service.number_notice(db.session, actor, task, current_app.config["BUREAU_CODE"])
        data = docs_service.render_task_notice_pdf(db.session, task, _config())
        db.session.commit()
        return pdf_response(data, f"检查任务通知书-{task.notice_number}.pdf", f"task-notice-{task.id}.pdf")


@blp.route("/tasks/<task_id>/record")
class TaskRecord(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(RecordSchema)
    @blp.response(200, InspectionTaskSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def post(self, data, task_id):
        """Number the 现场检查记录 with the recorder and the representative (or 拒绝签名)."""
        actor = current_actor()
        task = task_service.get_task(db.session, actor.user, task_id)
        return docs_service.prepare_record(db.session, actor, task, data, current_app.config["BUREAU_CODE"])


@blp.route("/tasks/<task_id>/record.pdf")
class TaskRecordPdf(MethodView):
    @auth_required(*STAFF)
    @blp.response(200, content_type="application/pdf", description="现场检查记录")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    def get(self, task_id):
        """现场检查记录 as PDF."""
        task = task_service.get_task(db.session, current_actor().user, task_id)
        data = docs_service.render_record_pdf(db.session, task, _config())
        return pdf_response(data, f"现场检查记录-{task.record_number}.pdf", f"inspection-record-{task.id}.pdf")


@blp.route("/check-codes/verify")
class CheckCodeVerify(MethodView):
    @auth_required("enterprise")
    @blp.arguments(CodeSchema)
    @blp.response(200, CodeResultSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="check_code_not_found (also another enterprise's code)")
    def post(self, data):
        """An enterprise checks the 检查码 the inspectors show."""
        return task_service.verify_code(db.session, current_actor().user, data["code"])


@blp.route("/planning/stats")
class PlanningStats(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(YearSchema, location="query")
    @blp.response(200)
    def get(self, args):
        """Shares of random / key / other-task / task-less inspections and inspections per enterprise vs the cap."""
        user = current_actor().user
        plan = plan_service.current_plan(db.session, user.region_id or "", args["year"]) if user.region_id else None
        return {"shares": stats_service.inspection_shares(db.session, user, args["year"]),
                "cap_usage": stats_service.cap_usage(db.session, user, args["year"], plan.annual_cap if plan else None),
                "plan_id": plan.id if plan else None}


@blp.route("/planning/inspections/export")
class PlanningInspectionsExport(MethodView):
    @auth_required(*STAFF)
    @blp.arguments(YearSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The year's inspections with 是否随机抽取 from the task (CSV with BOM or XLSX)."""
        rows = stats_service.inspection_rows(db.session, current_actor().user, args["year"])
        chunks = stats_service.table_export(f"{args['year']}年检查情况", stats_service.INSPECTION_LIST_HEADER,
                                            rows, args["format"])
        return download(chunks,
                        args["format"], f"检查情况_{args['year']}", f"inspections-{args['year']}")
