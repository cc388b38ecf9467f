"""FHIR R4 mapping primitives shared by the FHIR import and the CDS Hooks service.

Resources are parsed with ``fhir.resources`` R4B models (which read R4 JSON) at the boundary
only; everything past :mod:`interop.fhir.codes` and :mod:`interop.fhir.mapping` speaks our
contract (CPT codes, :class:`domain.catalog.Region`, :class:`domain.vocabulary.Laterality`,
``L4-L5`` levels, ``patient_id``).
"""
