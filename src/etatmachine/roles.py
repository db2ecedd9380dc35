"""Who acts on a dossier and who owes its next step."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """A side of the back office; values are stable ASCII codes."""

    CONTRACTOR = "contractor"
    """Le prestataire / l'artisan (PREST), often through the extranet (995) INTERNET."""
    SURVEYOR = "surveyor"
    """Le mètreur / PT: reviews the contractor's quotes."""
    EXPERT_RELATIONS = "expert_relations"
    """Relation Expert (RE): processes expert reports."""
    CASE_HANDLER = "case_handler"
    """Gestionnaire MA / GR: the platform's case handlers."""
    CUSTOMER_SERVICE = "customer_service"
    """Service clientèle: complaints (réclamations), RS/DR site controls."""
    INSURER = "insurer"
    """La compagnie (Cie): the insurance company."""
    EXPERT = "expert"
    """L'expert: the insurer's loss adjuster."""
    INSURED = "insured"
    """L'assuré: the customer."""
    SYSTEM = "system"
    """Automatic processes: (996) assignment, (007) processus informatiques."""
