DROP TABLE invitation_grants;
DROP TABLE invitations;
