"""Frameworks, levels, assessment windows, assessments and value-gap surveys."""
