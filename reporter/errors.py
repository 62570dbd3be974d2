"""Errors a user can cause: the CLI prints them as one line and exits with their code."""


class UserError(Exception):
    """A configuration or usage problem: exit code 2."""

    exit_code = 2


class DeliveryError(Exception):
    """Slack did not take the message: exit code 1."""

    exit_code = 1


class PipelineError(Exception):
    """dbt build failed or its error-severity tests failed: exit code 1."""

    exit_code = 1


class NoDataError(UserError):
    """The request is valid but matches no data (an empty or unknown week, an export
    whose filters match nothing): exit code 3, so a scheduler can tell it apart."""

    exit_code = 3


class OutcomeUnknown(DeliveryError):
    """A post may or may not have reached Slack and cannot be read back (a webhook): exit 4.

    No run posts it again on its own; `send --force` is the human's decision.
    """

    exit_code = 4
