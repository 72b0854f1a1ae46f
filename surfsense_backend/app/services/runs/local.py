"""The runs this process executes now, and the lease it holds them under:
what the runner adds to, and the lease keeper and the followers read."""

import uuid
from dataclasses import dataclass, field

from app.services.runs.handle import RunHandle


@dataclass
class LocalRuns:
    # How long a lease lasts unless renewed, in seconds.
    lease: float
    # Who holds a lease: this process's runner, for its lifetime.
    owner: uuid.UUID = field(default_factory=uuid.uuid4)
    handles: dict[uuid.UUID, RunHandle] = field(default_factory=dict)

    def get(self, run_id: uuid.UUID) -> RunHandle | None:
        """The run, if this process executes it now."""
        return self.handles.get(run_id)
