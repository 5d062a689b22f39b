"""The user's profile (display name, email): one row."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session

from connector.schemas import ProfilePublic, ProfileUpdate
from connector.tables import Profile, utcnow


class ProfileService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get(self) -> ProfilePublic:
        return await asyncio.to_thread(self._get)

    async def update(self, change: ProfileUpdate) -> ProfilePublic:
        return await asyncio.to_thread(self._update, change)

    def _get(self) -> ProfilePublic:
        with Session(self._engine) as session:
            row = session.get(Profile, 1)
            return (
                ProfilePublic.model_validate(row, from_attributes=True) if row else ProfilePublic()
            )

    def _update(self, change: ProfileUpdate) -> ProfilePublic:
        with Session(self._engine) as session:
            row = session.get(Profile, 1) or Profile(id=1)
            row.display_name, row.email, row.updated_at = (
                change.display_name,
                change.email,
                utcnow(),
            )
            session.add(row)
            session.commit()
            return ProfilePublic(display_name=row.display_name, email=row.email)
