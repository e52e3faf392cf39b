// Lets HTTPStatus be the failure type of a `Result` (PathNormalizer.normalize).
// Belongs in HTTPStatus.swift; kept here because that file is owned by the lead.

extension HTTPStatus: Error {}
