"""How late each step of a dossier was, in business time, and who owed it.

The procedure keeps opening and works due dates unchanged « on veut suivre le retard du
prestataire »: lateness is always measured against the due date a step was first set
with, so no reschedule can erase it; where the step was rescheduled, the lateness against
the last agreed due date is given beside it. It runs in business time of the dossier's
calendar, up to when the step was left (or ``at`` for the current step), or up to the
first contact with the insured on a step that such a contact meets (``met_by_contact``).
An appointment (``Deadline.appointment``: a visit, a works date) is an event, not a step
owed by then: the time after a kept appointment is no lateness; moving it later is, from
the original date. A step counts against the contractor only where the catalogue says the
contractor's clock runs (``clock = "contractor"``); waits that are not of the
contractor's doing stop it.

The models (`Step`, `DossierLateness`, `GroupStats`, `LatenessReport`) are in
``models.py``; measuring the steps of a dossier in ``steps.py``; the statistics over many
steps in ``stats.py``. Every public name is re-exported here, the names to import.
"""

from etatmachine.lateness.models import DossierLateness, GroupStats, LatenessReport, Step
from etatmachine.lateness.stats import (
    StepFigures,
    group_stats,
    lateness_report,
    lateness_report_of,
)
from etatmachine.lateness.steps import dossier_lateness, measure_step, step_lateness

__all__ = [
    "DossierLateness",
    "GroupStats",
    "LatenessReport",
    "Step",
    "StepFigures",
    "dossier_lateness",
    "group_stats",
    "lateness_report",
    "lateness_report_of",
    "measure_step",
    "step_lateness",
]
