"""The GraphQL API: schema.graphql and the resolvers binding it to the data side."""
