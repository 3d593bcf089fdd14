"""All models, imported so that metadata is complete."""
from .base import SyncMixin, UTCDateTime, new_id, utcnow  # noqa: F401
from .sync import SyncState, SyncTombstone, allocate_seq, current_seq  # noqa: F401
from .regions import Region, region_prefix  # noqa: F401
from .enterprises import Enterprise  # noqa: F401
from .users import ApiToken, Device, User, ROLES  # noqa: F401
from .checklists import ChecklistItem, ChecklistTemplate  # noqa: F401
from .criteria import CriteriaCatalogue, CriteriaClause  # noqa: F401
from .inspections import Finding, Inspection, InspectionTask  # noqa: F401
from .notices import DocumentCounter, Notice  # noqa: F401
from .hazards import Hazard, Rectification, RemediationPlan, Review  # noqa: F401
from .photos import Photo, Upload  # noqa: F401
from .enforcement import EnforcementCase, PenaltyDecision, case_hazards  # noqa: F401
from .audit import AuditEvent  # noqa: F401
from .selfcheck import (  # noqa: F401
    CheckDuty, DutyHolder, MajorHazardSource, RecheckSample, RecheckTask, SafetyCommitment, SelfCheck, SelfCheckDue,
)
