-- signoff's audit store and outbox live beside Temporal's databases.
CREATE USER signoff WITH PASSWORD 'signoff';
CREATE DATABASE signoff OWNER signoff;
