from __future__ import annotations

from flask.views import MethodView
from .common import Blueprint

from ..errors import ValidationError
from ..extensions import db
from ..schemas.checklists import (
    ChecklistImportFileSchema, ChecklistImportQuerySchema, ChecklistImportReportSchema,
    ChecklistItemInputSchema,
    ChecklistItemQuerySchema, ChecklistItemSchema, ChecklistItemUpdateSchema, ChecklistQuerySchema,
    ChecklistTemplateCreateSchema, ChecklistTemplateDetailSchema, ChecklistTemplateSchema,
    ChecklistTemplateUpdateSchema,
)
from ..schemas.common import ApiErrorSchema
from ..services.registry import checklists as checklist_service
from .common import paginate
from .security import auth_required, current_actor

blp = Blueprint("checklists", __name__, url_prefix="/api/v1/checklists",
                description="Versioned checklist templates (检查表): draft → published (immutable) → retired")


@blp.route("")
class Checklists(MethodView):
    @auth_required
    @blp.arguments(ChecklistQuerySchema, location="query")
    @blp.response(200, ChecklistTemplateSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Checklist templates, newest version first per code (enterprise users: published only)."""
        stmt = checklist_service.list_templates_stmt(current_actor().user, args)
        return paginate(stmt.options(checklist_service.with_items()), pagination_parameters)

    @auth_required("admin")
    @blp.arguments(ChecklistTemplateCreateSchema)
    @blp.response(201, ChecklistTemplateDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_code_taken")
    def post(self, data):
        """Create version 1 of a new checklist, as a draft."""
        return checklist_service.create_template(db.session, current_actor(), data)


@blp.route("/import")
class ChecklistImport(MethodView):
    @auth_required("admin")
    @blp.arguments(ChecklistImportFileSchema, location="files")
    @blp.arguments(ChecklistImportQuerySchema, location="query")
    @blp.response(200, ChecklistImportReportSchema)
    @blp.alt_response(422, schema=ApiErrorSchema,
                      description="unreadable file, or rows with errors (details.errors; nothing imported)")
    def post(self, files, args):
        """Import a checklist from JSON or XLSX (multipart field `file`). All or nothing: a new code makes
        version 1, a changed checklist a new draft version, an identical one changes nothing."""
        upload = files["file"]
        report = checklist_service.import_checklist_file(
            db.session, current_actor(), upload.read(), upload.filename, code=args.get("code"),
            title=args.get("title"), publish=args["publish"])
        if report.failed:
            raise ValidationError(f"检查表导入失败：{report.failed} 处错误，未导入任何内容 (nothing imported)",
                                  code="checklist_import_failed", details={"errors": report.errors})
        return report.as_dict()


@blp.route("/<template_id>")
class ChecklistById(MethodView):
    @auth_required
    @blp.etag
    @blp.response(200, ChecklistTemplateDetailSchema)
    def get(self, template_id):
        """One version with its items."""
        return checklist_service.get_template(db.session, current_actor().user, template_id)

    @auth_required("admin")
    @blp.etag
    @blp.arguments(ChecklistTemplateUpdateSchema)
    @blp.response(200, ChecklistTemplateDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_immutable (published or retired)")
    def patch(self, data, template_id):
        """Edit a draft (needs If-Match); `items` replaces the item list. Published versions answer 409."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
        blp.check_etag(tpl, ChecklistTemplateDetailSchema)
        return checklist_service.update_template(db.session, actor, tpl, data)


@blp.route("/<template_id>/versions")
class ChecklistVersions(MethodView):
    @auth_required("admin")
    @blp.response(201, ChecklistTemplateDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="draft_exists")
    def post(self, template_id):
        """Start a new version: a draft copy of the latest version of this code, version + 1."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id)
        return checklist_service.new_version(db.session, actor, tpl)


@blp.route("/<template_id>/publish")
class ChecklistPublish(MethodView):
    @auth_required("admin")
    @blp.response(200, ChecklistTemplateDetailSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="not_draft")
    def post(self, template_id):
        """Publish a draft; the previously published version of the same code is retired."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
        return checklist_service.publish_template(db.session, actor, tpl)


@blp.route("/<template_id>/items")
class ChecklistItems(MethodView):
    @auth_required
    @blp.arguments(ChecklistItemQuerySchema, location="query")
    @blp.response(200, ChecklistItemSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=1000)
    def get(self, args, template_id, pagination_parameters):
        """The items of one version, in order."""
        user = current_actor().user
        tpl = checklist_service.get_template(db.session, user, template_id)
        return paginate(checklist_service.items_stmt(user, tpl, args.get("category")), pagination_parameters)

    @auth_required("admin")
    @blp.arguments(ChecklistItemInputSchema)
    @blp.response(201, ChecklistItemSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_immutable / item_code_taken")
    def post(self, data, template_id):
        """Add an item to a draft."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
        return checklist_service.add_item(db.session, actor, tpl, data)


@blp.route("/<template_id>/items/<item_id>")
class ChecklistItemById(MethodView):
    @auth_required("admin")
    @blp.arguments(ChecklistItemUpdateSchema)
    @blp.response(200, ChecklistItemSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_immutable")
    def patch(self, data, template_id, item_id):
        """Change an item of a draft."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
        item = checklist_service.get_item(db.session, tpl, item_id)
        return checklist_service.update_item(db.session, actor, tpl, item, data)

    @auth_required("admin")
    @blp.response(204)
    @blp.alt_response(409, schema=ApiErrorSchema, description="template_immutable")
    def delete(self, template_id, item_id):
        """Remove an item from a draft."""
        actor = current_actor()
        tpl = checklist_service.get_template(db.session, actor.user, template_id, for_update=True)
        item = checklist_service.get_item(db.session, tpl, item_id)
        checklist_service.delete_item(db.session, actor, tpl, item)
