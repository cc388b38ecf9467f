"""Interoperability: FHIR R4 and CDS Hooks models and mappings."""
