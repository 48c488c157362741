"""Placeholder router; filled by its own change."""

from fastapi import APIRouter

router = APIRouter()
