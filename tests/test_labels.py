"""Labels as people and legacy histories write them resolve to one state, or fail loudly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etatmachine import CatalogueError, UnknownStateError, resolve
from etatmachine.catalogue import default_catalogue, parse_catalogue
from etatmachine.labels import label_key

CAT = default_catalogue()


@pytest.mark.parametrize("state", [s for s in CAT if s.resolvable], ids=lambda s: s.code)
def test_every_procedure_label_resolves_to_its_state(state: object) -> None:
    from etatmachine.catalogue import StateSpec

    assert isinstance(state, StateSpec)
    assert resolve(state.label) is state
    assert resolve(state.code) is state
    assert resolve(state.label.upper()) is state


@pytest.mark.parametrize(
    ("written", "code"),
    [
        # as the histories pasted in the procedure write them
        ("Contact client pour devis (2)", "contact_client_devis"),
        (
            "Contact client pour RdV de reconnaissance selon chiffrage existant (1)",
            "contact_client_rdv_reco_chiffrage",
        ),
        ("Première visite (7)", "premiere_visite"),
        ("En attente demande de prix fournisseur (5)", "attente_prix_fournisseur"),
        ("Etude de devis.", "etude_devis"),
        ("PT - Devis - demande info complémentaire (2)", "devis_demande_info"),
        ("DEVIS - Réponse vers mètreur (2)", "devis_reponse_metreur"),
        ("Devis transmis en attente accord EXPERT (21)", "devis_attente_accord_expert"),
        (
            "Contact client pour travaux et signature de l'attestation du choix de fourniture (2)",
            "contact_client_travaux",
        ),
        ("En attente de fournitures. Semaine: 14.", "attente_fourniture"),
        ("Date Début Travaux (60)", "date_debut_travaux"),
        ("En attente de séchage (45). % d'humidité 100.", "attente_sechage"),
        ("client injoignable (7)", "client_injoignable"),
        ("AZ: Appels 24h", "az_appel_24h"),
        ("En attente gestion MA", "attente_gestion_ma"),
        # accents, dashes and spacing as people type them
        ("premiere visite - grille de disponibilites", "premiere_visite_grille"),
        ("RE - Retour d'expert à traiter", "re_retour_expert"),
        ("  rapport  d'expertise en attente de traitement ", "rapport_attente_traitement"),
        ("EN ATTENTE DE TELEEVALUATION", "attente_teleevaluation"),
    ],
)
def test_history_spellings_resolve(written: str, code: str) -> None:
    assert resolve(written).code == code


def test_the_shared_supply_label_resolves_to_the_wait_never_to_the_complaint() -> None:
    assert resolve("En attente de fourniture").code == "attente_fourniture"
    assert resolve("attente_fourniture_reclamation").code == "attente_fourniture_reclamation"


@pytest.mark.parametrize(
    ("written", "closest"),
    [
        ("Etude du devi bizarre", "etude_devis"),
        ("Travaux en courd", "travaux_en_cours"),
        ("Client injoinable", "client_injoignable"),
    ],
)
def test_unknown_label_carries_the_closest_candidates(written: str, closest: str) -> None:
    with pytest.raises(UnknownStateError) as info:
        resolve(written)
    assert info.value.label == written
    assert closest in info.value.candidates
    assert isinstance(info.value, LookupError)


def test_a_label_with_nothing_close_has_no_candidates() -> None:
    with pytest.raises(UnknownStateError, match=r"^unknown state 'xyzzy'$") as info:
        resolve("xyzzy")
    assert info.value.candidates == ()


def test_a_prefix_alone_does_not_resolve() -> None:
    with pytest.raises(UnknownStateError):
        resolve("PT - ")


def test_two_states_sharing_a_label_must_say_which_one_resolves() -> None:
    data = CAT.to_dict()
    for s in data["states"]:
        if s["code"] == "attente_fourniture_reclamation":
            s.pop("resolvable")
    with pytest.raises(CatalogueError, match="resolves to both") as info:
        resolve("x", parse_catalogue(data))
    assert info.value.field == "label"


@given(st.text(max_size=80))
def test_resolve_never_crashes_and_never_guesses(text: str) -> None:
    error: UnknownStateError | None = None
    try:
        state = resolve(text)
    except UnknownStateError as exc:
        error = exc
    if error is not None:
        assert error.label == text
    else:
        assert (
            text == state.code
            or label_key(text).endswith(label_key(state.label))
            or any(label_key(text).endswith(label_key(a)) for a in state.aliases)
        )
