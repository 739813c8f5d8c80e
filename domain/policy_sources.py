"""The rows of shared/POLICY-SOURCES.md, quoted: the figure column as the row, the source column
as the reference (a row saying "same" takes the row above's), the value column as what it
says. News and government news pages; the legal acts themselves were not read."""

from __future__ import annotations

from domain.provenance import Published

_SUPPORT_NEWS = 'lada.kz news 147686; nitec.kz news "service inclusion regional quota kandas"'

RELOCATION_SUBSIDY = Published(
    row="Relocation subsidy for kandas",
    source=_SUPPORT_NEWS,
    says="one-time 70 MRP per family member (302,750 KZT in 2026)",
)
RENT_COMPENSATION = Published(
    row="Rent and utilities compensation",
    source=_SUPPORT_NEWS,
    says="15–30 MRP per family per month, 12 months",
)
MRP = Published(
    row="MRP (monthly calculation index)",
    source=_SUPPORT_NEWS,
    says="4,325 KZT (2026), 3,932 KZT (2025) — derived from the amounts above",
)
REGIONAL_QUOTA_2026 = Published(
    row="Kandas quota by region 2026; Regional quota 2026",
    source="mgorod.kz news (quota 2026); zakon.kz pravo 6502262",
    says="Pavlodar 977, Akmola 285, Abai 264, East Kazakhstan 200, North Kazakhstan 200,"
    " Kostanay 200, Atyrau 125, West Kazakhstan 30; 2,281 kandas + 5,997 internal"
    " resettlers (labour minister's order of 12 Dec 2025)",
)
SOCIAL_CONTRACT = Published(
    row="Five-year social contract; full repayment on early departure",
    source="lada.kz news 147991; policy statement",
    says='"the whole amount of support"',
)
KANDAS_STATUS_DECISION = Published(
    row="Kandas status decision",
    source="oq.gov.kz/en/qazalemnews/1277",
    says="within 3 working days by the local executive body; preliminary refusal → hearing"
    " within 2 working days; one extension of up to 6 months",
)
KAZTEST = Published(
    row="KAZTEST for the pilot",
    source="internationalinvestment.biz migration 7750",
    says="level A1; 60 questions, listening and reading, 70 minutes; ≥ 30 % in each"
    " section; 3 paid attempts; 30-day ban for breaking rules",
)
QUESTIONNAIRE = Published(
    row="Questionnaire",
    source="charter97.org 2026-02-24; patrioty.org.ua",
    says="age, education, languages (Kazakh, Russian, English with IELTS/TOEFL), work"
    " experience, military service, health, criminal record, deportations; automatic;"
    " minimum 400 points (per-factor points not published)",
)
SCORING_PILOT = Published(
    row="Residence-permit scoring pilot",
    source="zakon.kz pravo 6508012",
    says="joint order of 30 Jan 2026; from 13 Feb 2026 to end of 2026; test +"
    " questionnaire, then agency checks, interview, consent of the country of citizenship;"
    " up to 29 days",
)

# Rows no figure of the 2026.1 version cites yet: here so that a figure added from them
# (the employer subsidy, the housing certificate, kandas status's term) cites the row as is.
EMPLOYER_SUBSIDY = Published(
    row="Employer subsidy",
    source="oq.gov.kz/en/news/1458",
    says="400 MRP per resettler given housing and employed at least 2 years",
)
HOUSING_CERTIFICATE = Published(
    row='Housing certificate ("economic mobility")',
    source="lada.kz news 146527; kapital.kz 130821",
    says="non-repayable; up to 1,625 MRP from 2026 (earlier 50 % up to ~4.2–4.56 mln KZT)",
)
KANDAS_STATUS_DURATION = Published(
    row="Kandas status duration",
    source="almaty.tv news 1525",
    says="1 year (2022 source; may be outdated)",
)
