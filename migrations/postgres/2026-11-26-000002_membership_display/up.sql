-- The member display a client set (RFC 7643 §4.2 members.display); NULL = derived from the member.
ALTER TABLE memberships ADD COLUMN display TEXT NULL;
