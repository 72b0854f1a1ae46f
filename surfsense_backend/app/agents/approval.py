"""Asking a person to approve tool calls, in the format LangChain's
`HumanInTheLoopMiddleware` and the UIs built for it (agent-chat-ui, Agent
Inbox) speak: the interrupt's value is

    {"action_requests": [{"name", "args", "description"}, ...],
     "review_configs": [{"action_name", "allowed_decisions", "args_schema"?}, ...]}

and the answer is one decision per action request, in order:

    {"decisions": [{"type": "approve"}
                   | {"type": "edit", "edited_action": {"name", "args"}}
                   | {"type": "reject", "message"?: "..."}]}
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, ClassVar, Literal

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from app.agents.run_context import problems
from app.schemas.json_value import StoredJson

DecisionType = Literal["approve", "edit", "reject"]
DECISION_TYPES: tuple[DecisionType, ...] = ("approve", "edit", "reject")


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Approve(_Decision):
    type: Literal["approve"]


class EditedAction(_Decision):
    name: str = Field(min_length=1, max_length=200)
    args: dict[str, StoredJson]


class Edit(_Decision):
    type: Literal["edit"]
    edited_action: EditedAction


class Reject(_Decision):
    type: Literal["reject"]
    # What the model is told instead of the tool's result.
    message: str | None = Field(default=None, max_length=2000)


Decision = Annotated[Approve | Edit | Reject, Field(discriminator="type")]


class Decisions(BaseModel):
    """The answer to an approval request. Checked against the request it
    answers when that is known (`context={"asked": <the interrupt's value>}`):
    one decision per action, each of a type its review config allows, an edit
    keeping the action's name with arguments its tool accepts (`tools`)."""

    model_config = ConfigDict(extra="forbid")

    # The tools whose calls may be edited, by name: an edit's arguments must suit them.
    tools: ClassVar[dict[str, BaseTool]] = {}

    decisions: list[Decision] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _answers_what_was_asked(self, info: ValidationInfo) -> "Decisions":
        asked = (info.context or {}).get("asked")
        if not isinstance(asked, dict) or not is_approval_request(asked):
            return self
        requests = asked["action_requests"]
        if len(self.decisions) != len(requests):
            raise ValueError(
                f"{len(requests)} action(s) were asked about and {len(self.decisions)} decision(s) "
                "given: send one decision per action, in order"
            )
        configs = {c["action_name"]: c for c in asked["review_configs"]}
        for i, (decision, request) in enumerate(zip(self.decisions, requests, strict=True)):
            name = request["name"]
            allowed = configs.get(name, {}).get("allowed_decisions", [])
            if decision.type not in allowed:
                raise ValueError(f"decision {i} ({decision.type}) is not allowed for {name}: {allowed}")
            if isinstance(decision, Edit):
                self._check_edit(i, name, decision.edited_action)
        return self

    def _check_edit(self, i: int, name: str, edited: EditedAction) -> None:
        if edited.name != name:
            raise ValueError(f"decision {i} edits {name} into another action ({edited.name})")
        tool = self.tools.get(name)
        if tool is None:
            return
        try:
            tool.tool_call_schema.model_validate(edited.args)  # type: ignore[union-attr]
        except ValidationError as error:
            raise ValueError(
                f"decision {i} edits {name} with arguments it does not take: {problems(error, 'args')}"
            ) from None


def is_approval_request(value: Any) -> bool:
    """Whether an interrupt's value is an approval request in this format."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("action_requests"), list)
        and isinstance(value.get("review_configs"), list)
    )


def approval_request(
    calls: Sequence[ToolCall],
    describe: Callable[[ToolCall], str],
    tools: dict[str, BaseTool],
    allowed: Sequence[DecisionType] = DECISION_TYPES,
) -> dict[str, Any]:
    """The interrupt's value asking about `calls`, each said in words by
    `describe`; one review config per tool, with its arguments' JSON schema
    when they may be edited."""
    configs: dict[str, dict[str, Any]] = {}
    for call in calls:
        config: dict[str, Any] = {"action_name": call["name"], "allowed_decisions": list(allowed)}
        if "edit" in allowed and call["name"] in tools:
            config["args_schema"] = tools[call["name"]].tool_call_schema.model_json_schema()  # type: ignore[union-attr]
        configs[call["name"]] = config
    return {
        "action_requests": [
            {"name": c["name"], "args": c["args"], "description": describe(c)} for c in calls
        ],
        "review_configs": list(configs.values()),
    }


def decide(calls: Sequence[ToolCall], answer: Decisions) -> tuple[list[ToolCall], list[ToolMessage]]:
    """The calls as decided (an edit's arguments replace the call's), and a
    result for each rejected call; `calls[i]` is decided by `decisions[i]`."""
    revised: list[ToolCall] = []
    refused: list[ToolMessage] = []
    for call, decision in zip(calls, answer.decisions, strict=True):
        if isinstance(decision, Reject):
            why = "The user rejected it" + (f": {decision.message}" if decision.message else ".")
            refused.append(ToolMessage(why, tool_call_id=call["id"] or "", name=call["name"], status="error"))
            revised.append(call)
        elif isinstance(decision, Edit):
            revised.append({**call, "args": decision.edited_action.args})
        else:
            revised.append(call)
    return revised, refused
