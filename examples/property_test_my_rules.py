"""A back office's own property test: the bundled machine plus one house rule.

Run it with ``pytest examples/property_test_my_rules.py``. The state machine makes random
allowed and forbidden moves on random files and checks the library's invariants after
each step; the subclass adds a rule of its own: a MAIF file never enters an Allianz (AZ)
state, and never a state restricted to other insurers.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import invariant

from etatmachine import Workflow
from etatmachine.testing import WorkflowStateMachine

AZ_STATES = frozenset(
    s.code for s in Workflow.default().catalogue if s.phase == "specifique" and s.column == "az"
)


class MyBackOffice(WorkflowStateMachine):
    """Our catalogue (here the bundled one; yours: ``Workflow.from_file("mine.toml")``)."""

    workflow = Workflow.default()

    @invariant()
    def maif_files_never_enter_az_states(self) -> None:
        if self.dossier is not None and self.dossier.insurer == "MAIF":
            assert not {e.target for e in self.dossier.history} & AZ_STATES


TestMyBackOffice = MyBackOffice.TestCase
TestMyBackOffice.settings = settings(max_examples=20, stateful_step_count=10, deadline=None)
