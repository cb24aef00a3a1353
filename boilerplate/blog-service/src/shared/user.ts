/** A user as every service shows it (GraphQL `User`): the users service's own, or a copy. */
export interface User {
  id: string
  username: string
  firstName: string
  lastName: string
}
